"""Choices of the case models: channels, case types and categories, urgency, customers'
kinds and tiers, and the case's states."""

from django.db import models
from django.utils.translation import gettext_lazy as _


def label(choices, value):
    """What a field with these choices shows for `value` (its get_FOO_display()), in the
    active language, found in the enumeration's own map: Django's get_FOO_display rebuilds
    the field's whole choice map on every call, which intake and its answer do on every
    case."""
    try:
        return str(choices(value).label)
    except ValueError:  # not one of the choices: shown as it is, as Django does
        return value


# --- choices ----------------------------------------------------------------------------


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")
    WEB = "web", _("Web form")
    CHAT = "chat", _("Online chat")
    SOCIAL = "social", _("Social media")
    STORE = "store", _("Store")
    CALLBACK = "callback", _("Follow-up call")
    API = "api", _("API")
    WECHAT = "wechat", _("WeChat")


class CaseType(models.TextChoices):
    CONSULTATION = "consultation", _("Consultation")
    COMPLAINT = "complaint", _("Complaint")
    SUGGESTION = "suggestion", _("Suggestion")
    FEATURE_REQUEST = "feature_request", _("Feature request")
    RETURN_EXCHANGE = "return_exchange", _("Return / exchange")
    OTHER = "other", _("Other")


class Category(models.TextChoices):
    PRODUCT = "product", _("Product")
    SERVICE = "service", _("Service")
    LOGISTICS = "logistics", _("Logistics")
    PROCESS = "process", _("Process")
    TECHNICAL = "technical", _("Technical")
    OTHER = "other", _("Other")


class Urgency(models.TextChoices):
    HIGH = "high", _("High")
    MEDIUM = "medium", _("Medium")
    LOW = "low", _("Low")


URGENCY_RANK = {Urgency.LOW: 0, Urgency.MEDIUM: 1, Urgency.HIGH: 2}


class ContactMethod(models.TextChoices):
    PHONE = "phone", _("Phone")
    SMS = "sms", _("SMS")
    EMAIL = "email", _("E-mail")
    WECHAT = "wechat", _("WeChat")


class CustomerKind(models.TextChoices):
    INDIVIDUAL = "individual", _("Individual")
    ENTERPRISE = "enterprise", _("Enterprise")


class CustomerTier(models.TextChoices):
    KEY = "key", _("Key account")
    HIGH_VALUE = "high_value", _("High value")
    ORDINARY = "ordinary", _("Ordinary")
    LOW_VALUE = "low_value", _("Low value")


class State(models.TextChoices):
    RECEIVED = "received", _("Received")
    ASSIGNED = "assigned", _("Assigned")
    INVESTIGATING = "investigating", _("Investigating")
    SOLUTION_PROPOSED = "solution_proposed", _("Solution proposed")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    REOPENED = "reopened", _("Reopened")
    MERGED = "merged", _("Merged")
    CANCELLED = "cancelled", _("Cancelled")


# Active: somebody still has work to do. Resolved cases wait for the satisfaction step.
ACTIVE_STATES = [
    State.RECEIVED,
    State.ASSIGNED,
    State.INVESTIGATING,
    State.SOLUTION_PROPOSED,
    State.REOPENED,
]
OPEN_STATES = [*ACTIVE_STATES, State.RESOLVED]
FINAL_STATES = [State.CLOSED, State.MERGED, State.CANCELLED]
