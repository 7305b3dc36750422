"""Imports every ORM module so that `Base.metadata` knows all tables."""

from lgsp.audit import models as audit_models
from lgsp.auth import models as auth_models
from lgsp.faults import models as fault_models
from lgsp.journal import models as journal_models
from lgsp.outbox import models as outbox_models

__all__ = ["audit_models", "auth_models", "fault_models", "journal_models", "outbox_models"]
