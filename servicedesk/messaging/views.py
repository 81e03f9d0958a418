"""The WeChat callback endpoint (/wechat/<account id>/): GET verification, POST messages."""

from django.http import HttpResponse, HttpResponseForbidden
from django.shortcuts import get_object_or_404
from django.views.decorators.csrf import csrf_exempt

from . import wechat
from .models import WeChatAccount
from .wechat_in import wechat_message_take


@csrf_exempt
def wechat_callback(request, account_id):
    account = get_object_or_404(WeChatAccount, pk=account_id, is_active=True)
    params = request.GET
    if request.method == "GET":
        try:
            wechat.check_signature(
                params.get("signature"), account.token, params.get("timestamp", ""),
                params.get("nonce", ""),
            )  # fmt: skip
        except wechat.SignatureError:
            return HttpResponseForbidden("bad signature")
        return HttpResponse(params.get("echostr", ""), content_type="text/plain")
    if request.method != "POST":
        return HttpResponse(status=405)
    try:
        fields = wechat.read_callback(account, params, request.body)
    except wechat.SignatureError:
        return HttpResponseForbidden("bad signature")
    wechat_message_take(account=account, fields=fields)
    # "success" tells WeChat not to retry and not to show the follower an error.
    return HttpResponse("success", content_type="text/plain")
