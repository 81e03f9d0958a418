"""The 002 request-record template (需求记录表), one row per case, in the handbook's exact
column order: 需求编号 需求来源 客户信息 需求描述 需求类型 紧急程度 优先级 责任部门/人员 预计解决时间
实际解决时间 处理结果 客户反馈 备注. The headers are the template's own (Chinese) words in every
language, so the sheet can be pasted into the team's existing workbook. The customer is shown
as the template shows it — the family name and a star, and their company, industry or type
("王*-电商企业") — never a phone number or e-mail."""

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from . import exports

LAYOUT = "request_record"
HEADERS = ["需求编号", "需求来源", "客户信息", "需求描述", "需求类型", "紧急程度", "优先级",
           "责任部门/人员", "预计解决时间", "实际解决时间", "处理结果", "客户反馈", "备注"]  # fmt: skip
WIDTHS = [15, 10, 18, 40, 10, 8, 7, 18, 13, 13, 30, 30, 24]
FEEDBACK_WORDS = {5: "非常满意", 4: "满意", 3: "一般", 2: "不满意", 1: "非常不满意"}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _date(value):
    return timezone.localtime(value).strftime("%Y-%m-%d") if value else ""


def customer_info(customer):
    name = (customer.name or "").strip()
    masked = f"{name[0]}*" if name else "*"
    about = customer.company or customer.industry or customer.get_kind_display()
    return f"{masked}-{about}" if about else masked


def feedback(case):
    if case.feedback_score is None:
        return ""
    text = f"{FEEDBACK_WORDS.get(case.feedback_score, '')}（{case.feedback_score}分）"
    if case.feedback_text:
        text += f"：“{case.feedback_text}”"
    return text


def row(case):
    department = str(case.department or "")
    person = str(case.assignee or "")
    return [
        case.number,
        case.get_channel_display(),
        customer_info(case.customer),
        case.description or case.subject,
        case.get_type_display(),
        case.get_urgency_display(),
        f"{case.priority}级" if case.priority else "",
        "-".join(x for x in (department, person) if x),
        _date(case.expected_resolution_at),
        _date(case.resolved_at),
        case.result,
        feedback(case),
        case.remarks,
    ]


def _cell(ws, value):
    """Customer text is written as text, never as a formula (= + - @ …)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        cell = WriteOnlyCell(ws, value=value)
        cell.data_type = "s"
        return cell
    return value


def write(path, queryset, *, on_progress=None, every=None):
    """The 002 sheet of `queryset` into `path` (openpyxl write-only, flat memory); returns the
    number of rows."""
    every = every or exports.PROGRESS_EVERY
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("需求记录表")
    ws.freeze_panes = "A2"
    for i, width in enumerate(WIDTHS, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    header = []
    for text in HEADERS:
        cell = WriteOnlyCell(ws, value=text)
        cell.font, cell.fill = Font(bold=True), PatternFill("solid", fgColor="DDE7F0")
        header.append(cell)
    ws.append(header)
    written = 0
    for case in queryset.iterator(chunk_size=2000):
        ws.append([_cell(ws, value) for value in row(case)])
        written += 1
        if on_progress and written % every == 0:
            on_progress(written)
    ws.auto_filter.ref = f"A1:{get_column_letter(len(HEADERS))}{written + 1}"
    wb.save(path)
    if on_progress:
        on_progress(written)
    return written
