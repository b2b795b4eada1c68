"""Every table module, imported once so that SQLModel.metadata (migrations, member merges) knows them all.
A feature that adds tables adds its module here."""

from __future__ import annotations

import storage.models
import storage.models_attendance
import storage.models_availability
import storage.models_catalog
import storage.models_conversation
import storage.models_decisions
import storage.models_events
import storage.models_ical
import storage.models_inbox
import storage.models_links
import storage.models_outbox_images
import storage.models_places
import storage.models_privacy
import storage.models_reminders
import storage.models_site
import storage.models_volunteers
import storage.models_watch  # noqa: F401
