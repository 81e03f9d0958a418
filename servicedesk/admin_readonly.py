"""Admin pages and inlines whose rows are records the system keeps (surveys, answers, calls,
messages, a customer's cases): shown, never added, changed or deleted by hand."""


class ReadOnlyMixin:
    """First among a ModelAdmin's or an inline's bases."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
