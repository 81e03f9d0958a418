"""servicedesk/serializer_fields.py: fields built once per class, each serializer instance
with its own copies — nested serializers included — bound to it."""

import pytest
from django.utils import translation

from complaints.serializers import CaseIntakeSerializer
from tests.complaints.test_api import body


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def test_each_serializer_has_its_own_nested_fields_bound_to_it():
    first = CaseIntakeSerializer(data=body(), context={"who": "first"})
    second = CaseIntakeSerializer(data=body(), context={"who": "second"})
    nested_first, nested_second = first.fields["customer"], second.fields["customer"]
    assert nested_first is not nested_second
    assert nested_first.parent is first and nested_second.parent is second
    phone_first, phone_second = nested_first.fields["phone"], nested_second.fields["phone"]
    assert phone_first is not phone_second
    assert phone_first.parent is nested_first and phone_second.parent is nested_second
    assert phone_first.context == {"who": "first"} and phone_second.context == {"who": "second"}


def test_one_serializers_errors_do_not_reach_another():
    bad = CaseIntakeSerializer(data=body(customer={"name": "坏号码", "phone": "12"}))
    good = CaseIntakeSerializer(data=body(customer={"name": "好号码", "phone": "13900001234"}))
    assert not bad.is_valid()
    assert "phone" in bad.errors["customer"]
    assert good.is_valid(), good.errors
    assert good.validated_data["customer"]["phone"] == "13900001234"
    again = CaseIntakeSerializer(data=body(customer={"name": "又一个", "phone": "13900005678"}))
    assert again.is_valid(), again.errors
    assert again.validated_data["customer"]["name"] == "又一个"
