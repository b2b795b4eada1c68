"""/project: list the projects; coordinators rename or merge them."""

from __future__ import annotations

from bot.core.context import Ctx
from bot.core.errors import UsageError, UserError
from bot.core.grammar.args import WordArg
from bot.core.i18n import N_
from bot.core.types import Reply
from handlers.volunteers.common import router
from storage import volunteers as store
from storage.models_volunteers import VolunteerProject
from storage.volunteer_rules import normalise_tag

project = router.group("project", aliases=["projet"], help=N_("List the projects; coordinators rename or merge them"))


@project.sub("list", aliases=["liste"], default=True, help=N_("The projects and their hours"),
             examples=(N_("/project"),))
def list_projects(ctx: Ctx) -> Reply:
    projects = store.list_projects(ctx.session)
    if not projects:
        return Reply(ctx._("No projects yet: tag an entry with #name, e.g. /task 2h sorting #ressourcerie"))
    return Reply("\n".join(f"• #{slug}: {ctx.translator.fmt_duration(minutes)}" for slug, minutes in projects),
                 title=ctx._("Projects"))


TWO_PROJECTS = (WordArg("old", label=N_("<old>"), question=N_("Rename or merge which projects?")),
                WordArg("new", label=N_("<new>"), question=N_("Rename or merge which projects?")))


def _source(ctx: Ctx, old: str, new: str) -> tuple[VolunteerProject, str, str]:
    old_slug, new_slug = normalise_tag(old), normalise_tag(new)
    source = store.find_project(ctx.session, old_slug)
    if source is None:
        raise UserError(ctx._("There is no project #{name}. /project lists them.").format(name=old_slug or old))
    if not new_slug or new_slug == old_slug:
        raise UsageError(ctx._("Give a different project name."))
    return source, old_slug, new_slug


@project.sub("rename", aliases=["renommer"], coordinator_only=True, help=N_("Give a project another name"),
             args=TWO_PROJECTS, examples=(N_("/project rename compta accounting"),))
def rename_project(ctx: Ctx, old: str, new: str) -> Reply:
    source, old_slug, new_slug = _source(ctx, old, new)
    if store.find_project(ctx.session, new_slug) is not None:
        raise UserError(ctx._("#{new} already exists: merge the two with /project merge {old} {new}.").format(
            new=new_slug, old=old_slug))
    store.rename_project(ctx.session, source, new_slug)
    return Reply(ctx._("#{old} is now #{new}.").format(old=old_slug, new=new_slug))


@project.sub("merge", aliases=["fusionner"], coordinator_only=True, help=N_("Move a project's hours into another"),
             args=TWO_PROJECTS, examples=(N_("/project merge recyclerie ressourcerie"),))
def merge_project(ctx: Ctx, old: str, new: str) -> Reply:
    source, old_slug, new_slug = _source(ctx, old, new)
    target = store.find_project(ctx.session, new_slug)
    if target is None:
        store.rename_project(ctx.session, source, new_slug)
        return Reply(ctx._("#{old} is now #{new}.").format(old=old_slug, new=new_slug))
    moved = store.merge_projects(ctx.session, source, target)
    return Reply(ctx.ngettext("Merged #{old} into #{new} ({n} entry moved).",
                              "Merged #{old} into #{new} ({n} entries moved).", moved).format(
        old=old_slug, new=new_slug, n=moved))
