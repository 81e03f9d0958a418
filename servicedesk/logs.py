"""Logging filters that keep the console readable (`make run` and servers alike).

- An ordinary 403 (a role without the permission) is one line, not a traceback.
- A finished Celery task reads "Task callbacks.tasks.survey_dispatch done in 0.40 s: sent 0,
  late 24", not a raw Python dict and a runtime with sixteen decimals.
"""

import ast
import logging


class NoTracebackFor403(logging.Filter):
    """django.request logs PermissionDenied with its traceback; a refusal is not a bug."""

    def filter(self, record):
        if getattr(record, "status_code", None) == 403:
            record.exc_info = None
            record.exc_text = None
        return True


def _words(value):
    if value is None:
        return ""
    if isinstance(value, dict):
        return ", ".join(f"{key} {_words(item)}" for key, item in value.items())
    if isinstance(value, list | tuple):
        return " / ".join(_words(item) for item in value)
    return str(value)


def task_result_words(text):
    """A task's return value (Celery hands us its repr) in words; as is when not a literal."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text
    return _words(value)


class ReadableTaskResults(logging.Filter):
    """On the `celery.app.trace` logger: rewrites the success line of a task."""

    def filter(self, record):
        args = record.args
        if isinstance(args, dict) and "return_value" in args and "runtime" in args:
            result = task_result_words(str(args["return_value"]))
            record.msg = "Task %(name)s done in %(runtime).2f s" + (
                ": %(result)s" if result else ""
            )
            record.args = {**args, "result": result}
        return True
