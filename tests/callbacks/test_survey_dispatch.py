"""The survey outbox: claimed in small groups, each survey marked as soon as it is out (a
worker that dies drops nothing and resends at most the one in flight), one refused address
fails alone, nothing goes out outside the sending hours, a survey past its window becomes a
phone follow-up, and the survey admin can resend or hand a survey to the callback queue."""

import datetime

import pytest
import time_machine
from django.core import mail
from django.test import override_settings

from callbacks import dispatch, services
from callbacks.models import FollowUp, Survey, SurveyChannel, SurveyStatus
from complaints.models import Case
from tests.smtp_sink import SmtpSink

from .conftest import at

pytestmark = pytest.mark.django_db


def email_cases(resolve_case, n, when=None, **customer):
    return [
        resolve_case(
            when or at(2026, 11, 2, 10),
            customer={"name": f"客户{i}", "email": f"c{i}@example.com", "phone": "", **customer},
        )
        for i in range(n)
    ]


def test_a_worker_killed_mid_group_drops_nothing(resolve_case, settings):
    settings.OUTBOX_GROUP_SIZE = 5
    email_cases(resolve_case, 5)
    noon = at(2026, 11, 2, 12)
    # A worker claims the group, sends two and marks them, then is killed (kill -9).
    ids = list(Survey.objects.order_by("pk").values_list("pk", flat=True))
    dispatch._claim(Survey.objects.filter(status=SurveyStatus.SCHEDULED), ids,
                    status=SurveyStatus.SENDING, claimed_at=noon)  # fmt: skip
    Survey.objects.filter(pk__in=ids[:2]).update(status=SurveyStatus.SENT, sent_at=noon)
    # Within the lease nobody touches them; after it, the three unsent go out, once.
    assert services.survey_dispatch_sweep(now=noon + datetime.timedelta(minutes=1))["sent"] == 0
    later = noon + datetime.timedelta(seconds=settings.OUTBOX_LEASE_SECONDS + 60)
    totals = services.survey_dispatch_sweep(now=later)
    assert totals["stale"] == 3 and totals["sent"] == 3
    assert sorted(m.to[0] for m in mail.outbox) == ["c2@example.com", "c3@example.com",
                                                     "c4@example.com"]  # fmt: skip
    assert not Survey.objects.exclude(status=SurveyStatus.SENT).exists()
    assert services.survey_dispatch_sweep(now=later)["sent"] == 0


def test_a_refused_address_fails_alone(resolve_case, settings):
    settings.SURVEY_SEND_ATTEMPTS = 1
    cases = email_cases(resolve_case, 4)
    refused = cases[1].customer.email
    with SmtpSink(refuse=[refused]) as sink, override_settings(**sink.django_settings()):
        totals = services.survey_dispatch_sweep(now=at(2026, 11, 2, 12))
    assert totals["sent"] == 3 and totals["phone"] == 1
    assert sorted(r for r, _m, _s in sink.messages) == sorted(
        c.customer.email for c in cases if c.customer.email != refused
    )
    survey = Survey.objects.get(case=cases[1])
    assert survey.channel == SurveyChannel.PHONE and "550" in survey.last_error
    assert FollowUp.objects.filter(survey=survey).count() == 1


def test_nothing_is_sent_outside_the_sending_hours(resolve_case):
    (case,) = email_cases(resolve_case, 1)
    survey = Survey.objects.get(case=case)
    # The sweep did not run in the afternoon (worker down); it comes back at night.
    assert services.survey_dispatch_sweep(now=at(2026, 11, 2, 22, 30))["sent"] == 0
    assert services.survey_dispatch_sweep(now=at(2026, 11, 3, 0, 44))["sent"] == 0
    assert mail.outbox == []
    assert services.survey_dispatch_sweep(now=at(2026, 11, 3, 9, 0))["sent"] == 1
    survey.refresh_from_db()
    assert survey.status == SurveyStatus.SENT and survey.sent_at == at(2026, 11, 3, 9, 0)


def test_a_survey_past_its_window_becomes_a_phone_follow_up(resolve_case):
    (case,) = email_cases(resolve_case, 1)
    survey = Survey.objects.get(case=case)
    late = survey.window_ends_at + datetime.timedelta(days=30)
    late = late.replace(hour=3)  # 11:00 in Shanghai: inside the sending hours
    totals = services.survey_dispatch_sweep(now=late)
    assert totals["late"] == 1 and totals["sent"] == 0
    assert mail.outbox == []
    survey.refresh_from_db()
    assert survey.channel == SurveyChannel.PHONE and survey.status == SurveyStatus.SENT
    assert survey.last_error in (
        "The follow-up window passed before it could be sent.",
        "发送前已超过回访期限。",
    )
    assert FollowUp.objects.filter(survey=survey).count() == 1
    # the follow-up was not made inside the window: the deadline is not marked met
    assert Case.objects.get(pk=case.pk).satisfaction_done_at is None


def test_the_survey_admin_resends_and_turns_surveys_into_calls(resolve_case, client, supervisor):
    first, second = email_cases(resolve_case, 2)
    services.survey_dispatch_sweep(now=at(2026, 11, 2, 12))
    assert len(mail.outbox) == 2
    s1, s2 = Survey.objects.get(case=first), Survey.objects.get(case=second)
    client.force_login(supervisor)
    url = "/admin/callbacks/survey/"
    with time_machine.travel(at(2026, 11, 2, 13), tick=False):
        response = client.post(url, {"action": "resend", "_selected_action": [s1.pk]}, follow=True)
        assert response.status_code == 200
        s1.refresh_from_db()
        assert s1.status == SurveyStatus.SCHEDULED
        client.post(url, {"action": "to_phone", "_selected_action": [s2.pk]}, follow=True)
    s2.refresh_from_db()
    assert s2.channel == SurveyChannel.PHONE and FollowUp.objects.filter(survey=s2).exists()
    mail.outbox.clear()
    assert services.survey_dispatch_sweep(now=at(2026, 11, 2, 14))["sent"] == 1
    assert [m.to for m in mail.outbox] == [[first.customer.email]]


def test_agents_do_not_get_the_survey_actions(resolve_case, client, agent):
    email_cases(resolve_case, 1)
    client.force_login(agent)
    page = client.get("/admin/callbacks/survey/").content.decode()
    assert 'value="resend"' not in page
