"""English, Japanese and Korean wording for the handbook questionnaire (004: multilingual
service), added to its shipped version 1 where its Chinese wording is still the shipped one.
Copied here, like 0002, so this migration keeps producing the same data."""

from django.db import migrations

CODE = "satisfaction-callback"

GREETING = {
    "en": "Dear customer, thank you for your continued trust and support. To learn how satisfied "
    "you are with our products and service and to hear your comments and suggestions, so that "
    "we can keep improving, we would like to ask you to spend a few minutes on this short "
    "follow-up survey.",
    "ja": "お客様へ　平素より格別のご愛顧を賜り、誠にありがとうございます。製品とサービスへの"
    "ご満足度やご意見・ご要望をお伺いし、より良いサービスにつなげるため、数分ほどでお答え"
    "いただけるアンケートにご協力をお願いいたします。",
    "ko": "고객님, 안녕하세요. 항상 저희를 믿고 이용해 주셔서 진심으로 감사드립니다. 저희 제품과 "
    "서비스에 대한 만족도와 고객님의 의견을 듣고 서비스 품질을 계속 개선하고자, 몇 분만 "
    "시간을 내어 이번 설문에 응답해 주시기를 부탁드립니다.",
}
CLOSING = {
    "en": "Thank you again for your support! If you have any questions or suggestions, please "
    "contact us at any time: customer service hotline {热线}.",
    "ja": "ご協力いただき、誠にありがとうございました。ご不明な点やご要望がございましたら、"
    "お気軽にお問い合わせください。カスタマーサービス：{热线}",
    "ko": "협조해 주셔서 다시 한번 감사드립니다. 궁금하신 점이나 제안이 있으시면 언제든지 "
    "연락해 주세요. 고객센터: {热线}",
}

QUESTIONS = {
    "overall": (
        "您对我们公司提供的产品/服务整体满意度如何？",
        {
            "en": "Overall, how satisfied are you with our products/service?",
            "ja": "当社の製品・サービス全体について、どの程度ご満足いただけましたか？",
            "ko": "저희 회사의 제품/서비스에 전반적으로 얼마나 만족하십니까?",
        },
    ),
    "quality": (
        "您认为我们的产品在质量方面表现如何？",
        {
            "en": "How would you rate the quality of our products?",
            "ja": "当社製品の品質について、どのように評価されますか？",
            "ko": "저희 제품의 품질은 어떻다고 생각하십니까?",
        },
    ),
    "quality_problem": (
        "产品是否出现过质量问题？如有，请简要描述。",
        {
            "en": "Have you had any quality problem with the product? If so, please describe it "
            "briefly.",
            "ja": "製品に品質上の問題はございましたか？ある場合は、簡単にご記入ください。",
            "ko": "제품에 품질 문제가 있었습니까? 있었다면 간단히 적어 주세요.",
        },
    ),
    "attitude": (
        "您对我们客服人员的服务态度是否满意？",
        {
            "en": "Are you satisfied with the attitude of our customer service staff?",
            "ja": "当社スタッフの応対にご満足いただけましたか？",
            "ko": "저희 상담원의 응대 태도에 만족하십니까?",
        },
    ),
    "promptness": (
        "客服人员是否能够及时、有效地解决您的问题？",
        {
            "en": "Does our customer service solve your problems promptly and effectively?",
            "ja": "スタッフは問題を迅速かつ的確に解決できましたか？",
            "ko": "상담원이 문제를 신속하고 효과적으로 해결해 드렸습니까?",
        },
    ),
    "needs": (
        "产品/服务的功能是否满足您的需求？",
        {
            "en": "Do the features of our products/service meet your needs?",
            "ja": "製品・サービスの機能は、お客様のご要望を満たしていますか？",
            "ko": "제품/서비스의 기능이 고객님의 요구를 충족합니까?",
        },
    ),
    "difficulty": (
        "在使用产品/服务过程中，您遇到的最大困难是什么？",
        {
            "en": "What was the biggest difficulty you had using our products/service?",
            "ja": "製品・サービスをご利用になる中で、最もお困りになったことは何ですか？",
            "ko": "제품/서비스를 이용하시면서 가장 어려웠던 점은 무엇입니까?",
        },
    ),
    "suggestions": (
        "对于我们公司的产品/服务，您有什么其他的意见或建议吗？",
        {
            "en": "Do you have any other comments or suggestions about our products/service?",
            "ja": "当社の製品・サービスについて、その他ご意見・ご要望がございましたらお聞かせください。",
            "ko": "저희 제품/서비스에 대해 다른 의견이나 제안이 있으십니까?",
        },
    ),
    "improvements": (
        "您希望我们在哪些方面进行改进？",
        {
            "en": "Where would you like us to improve?",
            "ja": "どのような点を改善してほしいとお考えですか？",
            "ko": "어떤 부분이 개선되기를 바라십니까?",
        },
    ),
}

CHOICES = {
    "非常满意": {"en": "Very satisfied", "ja": "大変満足", "ko": "매우 만족"},
    "满意": {"en": "Satisfied", "ja": "満足", "ko": "만족"},
    "一般": {"en": "Neutral", "ja": "普通", "ko": "보통"},
    "不满意": {"en": "Dissatisfied", "ja": "不満", "ko": "불만족"},
    "非常不满意": {"en": "Very dissatisfied", "ja": "大変不満", "ko": "매우 불만족"},
    "很好": {"en": "Very good", "ja": "とても良い", "ko": "매우 좋음"},
    "较好": {"en": "Good", "ja": "良い", "ko": "좋음"},
    "较差": {"en": "Poor", "ja": "悪い", "ko": "나쁨"},
    "很差": {"en": "Very poor", "ja": "とても悪い", "ko": "매우 나쁨"},
    "总是能": {"en": "Always", "ja": "いつもできている", "ko": "항상 그렇다"},
    "经常能": {"en": "Often", "ja": "たいていできている", "ko": "자주 그렇다"},
    "有时能": {"en": "Sometimes", "ja": "ときどきできている", "ko": "가끔 그렇다"},
    "很少能": {"en": "Rarely", "ja": "あまりできていない", "ko": "거의 그렇지 않다"},
    "不能": {"en": "Never", "ja": "できていない", "ko": "전혀 그렇지 않다"},
    "完全满足": {"en": "Fully", "ja": "十分に満たしている", "ko": "완전히 충족"},
    "基本满足": {"en": "Mostly", "ja": "おおむね満たしている", "ko": "대체로 충족"},
    "部分满足": {"en": "Partly", "ja": "一部満たしている", "ko": "부분적으로 충족"},
    "不满足": {"en": "Not at all", "ja": "満たしていない", "ko": "충족하지 못함"},
}
# "一般" means "average" on the quality scale, "neutral" on the satisfaction scales.
QUALITY_NEUTRAL = {"en": "Average", "ja": "普通", "ko": "보통"}


def translate(apps, schema_editor):
    QuestionnaireVersion = apps.get_model("callbacks", "QuestionnaireVersion")
    Question = apps.get_model("callbacks", "Question")
    Choice = apps.get_model("callbacks", "Choice")
    version = QuestionnaireVersion.objects.filter(questionnaire__code=CODE, number=1).first()
    if version is None:
        return
    if not version.greeting_translations and version.greeting.startswith("尊敬的客户"):
        version.greeting_translations = GREETING
    if not version.closing_translations and version.closing.startswith("再次感谢"):
        version.closing_translations = CLOSING
    version.save(update_fields=["greeting_translations", "closing_translations"])
    for question in Question.objects.filter(version=version):
        text, translations = QUESTIONS.get(question.code, ("", None))
        if translations and question.text == text and not question.translations:
            question.translations = translations
            question.save(update_fields=["translations"])
        for choice in Choice.objects.filter(question=question):
            found = CHOICES.get(choice.label)
            if question.code == "quality" and choice.label == "一般":
                found = QUALITY_NEUTRAL
            if found and not choice.translations:
                choice.translations = found
                choice.save(update_fields=["translations"])


class Migration(migrations.Migration):
    dependencies = [("callbacks", "0014_questionnaire_translations")]

    operations = [migrations.RunPython(translate, migrations.RunPython.noop)]
