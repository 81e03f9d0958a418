"""The OpenAPI schema says every answer the API can give (drf-spectacular post-processing).

Views document their own answers (201, 409 …). What every operation of a kind can answer is
added here once, where a view left it out, so the schema and the server agree (checked by
tests/servicedesk/test_schemathesis.py):
- 401 and 403 wherever a login is needed (refused: {"detail": …});
- 404 wherever the path names an object, and on every paginated list ("Invalid page.");
- 400 wherever a query string or a body is read ({field: [messages]}).
"""

ERROR = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
FIELD_ERRORS = {
    "type": "object",
    "additionalProperties": True,
    "description": "{field: [messages]}, or {detail: message}",
}


def _json(schema, description):
    return {"content": {"application/json": {"schema": schema}}, "description": description}


def complete_responses(result, generator, request, public):
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            parameters = operation.get("parameters", [])
            public_operation = {} in operation.get("security", [])
            if not public_operation:
                responses.setdefault("401", _json(ERROR, "Not authenticated."))
                responses.setdefault("403", _json(ERROR, "No permission."))
            names_object = any(p.get("in") == "path" for p in parameters)
            paginated = any(p.get("in") == "query" and p.get("name") == "page" for p in parameters)
            if names_object or paginated:
                responses.setdefault("404", _json(ERROR, "No such object, or no such page."))
            reads_input = "requestBody" in operation or any(
                p.get("in") == "query" for p in parameters
            )
            if reads_input:
                responses.setdefault("400", _json(FIELD_ERRORS, "Invalid input."))
    return result
