"""The five staff roles, as Django groups, and what each may do.

The groups are created by a migration (staff 0002); their permissions are declared here as
`app_label.codename` patterns and added after every `migrate`, because a later app's
permissions only exist once that app has migrated. Syncing only adds: an administrator may
grant more by hand and nothing here takes it away.
"""

from fnmatch import fnmatch

AGENT = "客服 Agent"
HANDLER = "处理人 Handler"
SUPERVISOR = "主管 Supervisor"
MANAGER = "经理 Manager"
ADMINISTRATOR = "管理员 Administrator"
ALL_ROLES = [AGENT, HANDLER, SUPERVISOR, MANAGER, ADMINISTRATOR]

_CASE_WORK = [
    # Listed one by one: "complaints.view_*" would also match view_personal_data.
    "complaints.view_case",
    "complaints.view_customer",
    "complaints.view_casecontact",
    "complaints.view_caseevent",
    "complaints.view_attachment",
    "complaints.view_returnrequest",
    "complaints.view_routingrule",
    "complaints.view_urgencyrule",
    "complaints.view_technicalrequest",
    "complaints.add_case",
    "complaints.change_case",
    "complaints.add_customer",
    "complaints.change_customer",
    "complaints.add_casecontact",
    "complaints.add_caseevent",
    "complaints.add_attachment",
    "complaints.add_returnrequest",
    "complaints.change_returnrequest",
    "complaints.add_technicalrequest",
    "complaints.change_technicalrequest",
    "complaints.transition_case",
    "knowledge.view_*",
    # Everything of follow-ups except the satisfaction summary (per-agent scores), which
    # supervisors and managers see through "callbacks.*".
    "callbacks.view_questionnaire*",
    "callbacks.view_question",
    "callbacks.view_choice",
    "callbacks.view_followup*",
    "callbacks.view_callattempt",
    "callbacks.view_survey",
    "callbacks.view_response",
    "callbacks.view_answer",
    "callbacks.view_problemreport",
    "callbacks.view_delivery",
    "callbacks.view_sample",
    "staff.view_department",
    "staff.view_notification",
    "staff.change_notification",
    "rota.view_*",
    # Their own QA reviews (the admin narrows the list) and the cases offered to them as backup.
    "workforce.view_qareview",
    "workforce.view_backupoffer",
]

ROLE_PERMISSIONS = {
    AGENT: [
        *_CASE_WORK,
        # Agents dispatch (分派), triage spam and call customers back: they need these.
        "complaints.assign_case",
        "complaints.cancel_case",
        "complaints.merge_case",
        "complaints.view_personal_data",
        # Working the callback queue (take, record a call, cancel) is changing a follow-up.
        "callbacks.change_followup",
        "knowledge.add_article",
        "knowledge.change_article",
    ],
    HANDLER: [
        *_CASE_WORK,
        "knowledge.add_article",
        "knowledge.change_article",
    ],
    SUPERVISOR: [
        *_CASE_WORK,
        "complaints.assign_case",
        "complaints.cancel_case",
        "complaints.merge_case",
        "complaints.waive_satisfaction",
        "complaints.view_personal_data",
        "complaints.view_slabreach",  # the escalations (升级记录) they review
        "complaints.*_routingrule",
        "complaints.*_urgencyrule",
        "callbacks.*",
        "knowledge.add_*",
        "knowledge.change_*",
        "knowledge.view_*",
        "knowledge.submit_planrevision",
        "reports.view_*",
        "reports.add_export",
        "staff.view_user",
        "django_celery_beat.view_*",
        "rota.*",
        "workforce.*",
    ],
    MANAGER: [
        *_CASE_WORK,
        "complaints.*",
        "callbacks.*",
        "knowledge.*",
        "reports.*",
        "staff.view_*",
        "django_celery_beat.view_*",
        "rota.*",
        "workforce.*",
    ],
    ADMINISTRATOR: ["*"],
}

# Never granted by pattern: deleting cases, customers or timeline entries would lose history
# (cases are cancelled, customers anonymised).
NEVER_GRANTED = [
    "complaints.delete_case",
    "complaints.delete_casecontact",
    "complaints.delete_customer",
    "complaints.delete_caseevent",
    "*.delete_historical*",
]


# Kept from one role although its patterns match: a manager's approvals.
ROLE_EXCEPTIONS = {SUPERVISOR: ["callbacks.approve_*", "callbacks.manage_recall"]}


def permissions_for(role, all_permissions):
    """The subset of `all_permissions` (`app_label.codename` -> object) granted to `role`."""
    patterns = ROLE_PERMISSIONS[role]
    never = [*NEVER_GRANTED, *ROLE_EXCEPTIONS.get(role, [])]
    granted = []
    for key, perm in all_permissions.items():
        if any(fnmatch(key, p) for p in never):
            continue
        if any(fnmatch(key, p) for p in patterns):
            granted.append(perm)
    return granted


def _last_app_with_models():
    from django.apps import apps

    return [a for a in apps.get_app_configs() if a.models_module is not None][-1]


def sync_role_permissions(sender=None, using="default", **kwargs):
    """Give each role group its permissions. Connected to post_migrate, which is sent once per
    app after every migrate (and every test-database flush): only the last app's signal does
    the work, when every app's permissions exist — once instead of once per app."""
    from django.contrib.auth.models import Group, Permission

    if sender is not None and sender is not _last_app_with_models():
        return

    perms = {
        f"{p.content_type.app_label}.{p.codename}": p
        for p in Permission.objects.using(using).select_related("content_type")
    }
    for role in ALL_ROLES:
        group, _ = Group.objects.using(using).get_or_create(name=role)
        group.permissions.add(*permissions_for(role, perms))
