"""The API matches its OpenAPI schema: schemathesis generates requests for every operation of
the schema we publish (bounded: a few examples each, so the run stays around a minute) and
sends them to a live server as a manager with a token. Every answer must be documented: no
server error, the status code, content type and body as the schema says.
"""

import pytest
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis import checks

from servicedesk.staff import roles
from tests.complaints.helpers import intake

# What the server answers must be documented. (Whether it accepts every request the schema
# allows is not checked: business rules — a purchase date at most ten years back, a period
# within a year — refuse some schema-valid values with a field error, as documented.)
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]

# Examples per operation: enough to hit every field with empty, odd and boundary values.
MAX_EXAMPLES = 10

raw = SchemaGenerator().get_schema(request=None, public=True)
schema = schemathesis.openapi.from_dict(raw)


@pytest.fixture
def auth(transactional_db, make_user, department):
    user = make_user("schema-manager", role=roles.MANAGER, departments=[department])
    # Some data for the reads to find (the generated case numbers mostly miss: 404s).
    for _ in range(3):
        intake(department=department)
    return {"Authorization": f"Token {Token.objects.create(user=user).key}"}


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_matches_its_schema(case, live_server, auth):
    case.call_and_validate(base_url=live_server.url, headers=auth, checks=CHECKS)


# --- what schemathesis found, on data it cannot make up -----------------------------------


def test_a_real_case_answers_as_documented(transactional_db, live_server, auth, department):
    """A customer without e-mail (""), timeline events that change no state (from_state ""),
    a case merged into another and one that is not (merged_into a number / null)."""
    from complaints import services
    from servicedesk.staff.models import User

    manager = User.objects.get(username="schema-manager")
    first = intake(department=department, customer={"name": "无邮箱客户", "phone": "13700000001"})
    second = intake(
        department=department,
        customer={"name": "另一位客户", "phone": "13700000002"},
        subject="完全不同的另一件事：发票抬头开错",
    )
    services.case_add_event(case=first.case, user=manager, message="已联系客户")
    services.case_transition(case=second.case, name="merge", user=manager, into=first.case)
    for case in (first.case, second.case):
        operation = schema["/api/v1/cases/{number}/"]["GET"]
        response = operation.Case(path_parameters={"number": case.number}).call_and_validate(
            base_url=live_server.url, headers=auth, checks=CHECKS
        )
        assert response.status_code == 200
    listing = schema["/api/v1/cases/"]["GET"].Case(query={"page": 99})
    response = listing.call_and_validate(base_url=live_server.url, headers=auth, checks=CHECKS)
    assert response.status_code == 404  # documented, and JSON


def test_unknown_api_paths_answer_json_404(client, db):
    for path in ("/api/v1/no-such-thing/", "/api/v1/cases/not-a-number/", "/api/v2/"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.headers["Content-Type"] == "application/json"
        assert "detail" in response.json()
    # Elsewhere Django's page.
    assert client.get("/no-such-page/").headers["Content-Type"].startswith("text/html")
