"""Feature modules. Each exposes a ``router``; the app collects them here."""

from __future__ import annotations

from bot.core.router import Router


def all_routers() -> list[Router]:
    from bot.core.conversation.housekeeping import router as conversation_router
    from handlers import (
        account,
        activity_reminders,
        admin,
        announcements,
        attendance,
        availability,
        bookings,
        calendar,
        dashboard,
        decisions,
        digest,
        events,
        help,
        link,
        maintenance,
        members,
        places,
        privacy,
        reminders,
        report,
        spaces,
        volunteers,
        watch,
    )

    return [help.router, account.router, spaces.router, bookings.router, availability.router, admin.router,
            link.router,
            reminders.router, announcements.router, digest.router, volunteers.router, report.router,
            events.router, calendar.router, activity_reminders.router, maintenance.router, privacy.router,
            members.router, conversation_router, dashboard.router, attendance.router,
            decisions.router, places.router, watch.router]
