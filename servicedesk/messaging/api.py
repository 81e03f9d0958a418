"""API of the channels: replies on a case, webhook subscriptions and their delivery log."""

from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.decorators import action, api_view, permission_classes
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from complaints.api import service_errors
from complaints.models import Case

from . import outbound, webhooks
from .models import (
    WebhookDelivery,
    WebhookEventType,
    WebhookSubscription,
)


class ReplyInputSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=10000, label=_("text"))
    public = serializers.BooleanField(
        label=_("public reply"),
        help_text=_("true: sent to the customer (公开回复); false: internal note (内部备注)."),
    )
    expected_version = serializers.IntegerField(required=False, allow_null=True)


class ReplySerializer(serializers.Serializer):
    event = serializers.IntegerField()
    public = serializers.BooleanField()
    channel = serializers.CharField(allow_null=True)
    status = serializers.CharField(allow_null=True)
    outbound = serializers.IntegerField(allow_null=True)


@extend_schema(
    summary="Reply to the customer (public) or add an internal note",
    request=ReplyInputSerializer,
    responses={201: ReplySerializer},
)
@api_view(["POST"])
@permission_classes([permissions.IsAuthenticated])
def case_replies(request, number):
    if not request.user.has_perm("complaints.add_caseevent"):
        return Response({"detail": _("You do not have permission to perform this action.")}, 403)
    case = get_object_or_404(Case.objects.visible_to(request.user), number=number)
    serializer = ReplyInputSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    data = serializer.validated_data
    with service_errors(case):
        event, message = outbound.reply_create(
            case=case, user=request.user, body=data["body"], public=data["public"],
            expected_version=data.get("expected_version"),
        )  # fmt: skip
    return Response(
        {
            "event": event.pk,
            "public": data["public"],
            "channel": message.channel if message else None,
            "status": message.status if message else None,
            "outbound": message.pk if message else None,
        },
        status=status.HTTP_201_CREATED,
    )


class SubscriptionSerializer(serializers.ModelSerializer):
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEventType.choices), allow_empty=False
    )
    secret = serializers.CharField(write_only=True, max_length=128, min_length=16)

    class Meta:
        model = WebhookSubscription
        fields = ["id", "name", "target_url", "events", "secret", "is_active", "paused_at",
                  "paused_reason", "created_at"]  # fmt: skip
        read_only_fields = ["is_active", "paused_at", "paused_reason", "created_at"]

    def validate_target_url(self, value):
        try:
            return webhooks.check_target(value)
        except webhooks.TargetRefused as exc:
            raise serializers.ValidationError(str(exc)) from exc


class DeliverySerializer(serializers.ModelSerializer):
    event_type = serializers.CharField(source="event.type")
    event_id = serializers.UUIDField(source="event.id")

    class Meta:
        model = WebhookDelivery
        fields = ["id", "event_id", "event_type", "status", "attempts", "response_code",
                  "duration_ms", "last_error", "created_at", "delivered_at"]  # fmt: skip


class SubscriptionPermission(permissions.BasePermission):
    def has_permission(self, request, view):
        return request.user.has_perm("messaging.change_webhooksubscription")


class SubscriptionViewSet(viewsets.ModelViewSet):
    serializer_class = SubscriptionSerializer
    permission_classes = [permissions.IsAuthenticated, SubscriptionPermission]
    queryset = WebhookSubscription.objects.order_by("pk")

    def perform_create(self, serializer):
        serializer.save(owner=self.request.user)

    @extend_schema(
        summary="The delivery log (newest first)", responses=DeliverySerializer(many=True)
    )
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        sub = self.get_object()
        rows = WebhookDelivery.objects.filter(subscription=sub).select_related("event")[:200]
        return Response(DeliverySerializer(rows, many=True).data)

    @extend_schema(
        summary="Deliver an event to this subscription once more (a new log row)",
        request=None,
        responses={201: DeliverySerializer},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"deliveries/(?P<delivery_id>[0-9]+)/redeliver",
        url_name="redeliver",
    )
    def redeliver(self, request, pk=None, delivery_id=None):
        sub = self.get_object()
        delivery = get_object_or_404(WebhookDelivery, pk=delivery_id, subscription=sub)
        new = webhooks.delivery_redeliver(delivery=delivery)
        new = WebhookDelivery.objects.select_related("event").get(pk=new.pk)
        return Response(DeliverySerializer(new).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Resume a paused subscription", request=None, responses=SubscriptionSerializer
    )
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        sub = self.get_object()
        webhooks.subscription_resume(subscription=sub)
        sub.refresh_from_db()
        return Response(SubscriptionSerializer(sub).data)


router = SimpleRouter()
router.register("webhooks", SubscriptionViewSet, basename="webhook")

urlpatterns = [
    path("cases/<str:number>/replies/", case_replies, name="case-replies"),
    *router.urls,
]
