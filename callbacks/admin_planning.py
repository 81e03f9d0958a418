"""Admin for follow-up plans, deliveries and samples (being built)."""
