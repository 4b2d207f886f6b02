"""What the framework adapters tell a model about each Code Mode tool.

The texts describe the conventions of a client's session: namespaces in PascalCase,
functions in camelCase, one object argument (``await Tools.addNumbers({ a: 1, b: 2 })``).
``overrides`` replaces any of them; ``version`` selects a revision (only 1 exists).
"""

from __future__ import annotations

from pctx_client.models import ToolDisclosure, ToolDisclosureName, ToolName

_CALLS = (
    "Call functions as `await Namespace.functionName({ ...args })` with one object argument "
    "(functions without parameters take none); results are parsed values, not JSON text."
)

_RULES = """Rules:
- Put every call the task needs in ONE program; independent calls go in `Promise.all`.
- Return only the fields you need (results can be large); console.log() shows progress.
- Only the listed functions exist: no fetch, fs, require or process. Nothing persists
  between executions.
- Finish with `return value`, or define `async function run()` (it is called for you)."""

_TOOLS: dict[tuple[str, int], str] = {
    ("list_functions", 1): (
        "List every function you can call from execute_typescript, grouped by namespace, "
        "one line each. Call it first, then get_function_details for the ones you need."
    ),
    ("search_functions", 1): (
        "Search the functions by what they do (e.g. 'send an email'); returns the best "
        "matches as `Namespace.functionName: description`, best first. `k` bounds the count."
    ),
    ("get_function_details", 1): (
        "Full TypeScript declarations (parameters, return type, docs) of the functions named "
        "as 'Namespace.functionName', e.g. ['Tools.addNumbers']. Read them before calling a "
        "function whose arguments you do not know."
    ),
    ("execute_bash", 1): (
        "Run a read-only shell command over the SDK files in /sdk (the working directory): "
        "README.md lists every function by namespace with its description, and "
        "<Namespace>/<functionName>.d.ts declares each one. ls, cat, head, tail, grep, find "
        "and wc work, joined by |, && or ;. Start with `cat README.md` or `grep -ri "
        "'keyword' .`, then cat the .d.ts files you need."
    ),
    ("execute_typescript_catalog", 1): (
        "Run a TypeScript program in a fresh sandbox that can call the functions from "
        "list_functions and get_function_details. " + _CALLS + "\n\n" + _RULES
    ),
    ("execute_typescript_filesystem", 1): (
        "Run a TypeScript program in a fresh sandbox that can call the functions declared in "
        "/sdk (see execute_bash). " + _CALLS + "\n\n" + _RULES
    ),
}

_WORKFLOWS: dict[tuple[str, int], str] = {
    ("common", 1): (
        "These tools let you do a task in one program instead of many tool calls: write one "
        "TypeScript program that calls every function it needs (all calls are async: await "
        "them) and returns only what you need."
    ),
    ("catalog", 1): (
        "Workflow: list_functions (or search_functions), then get_function_details for the "
        "functions you will use, then one execute_typescript call."
    ),
    ("filesystem", 1): (
        "Workflow: explore /sdk with execute_bash (README.md, then the .d.ts files you need), "
        "then one execute_typescript call."
    ),
}


def get_workflow_description(
    disclosure: ToolDisclosure | ToolDisclosureName = ToolDisclosure.CATALOG,
    version: int = 1,
) -> str:
    """How to use the disclosure's tools together, for a system prompt.

    Raises:
        ValueError: Unknown disclosure or version.
    """
    disclosure = ToolDisclosure(disclosure)
    try:
        return f"{_WORKFLOWS['common', version]}\n{_WORKFLOWS[disclosure.value, version]}"
    except KeyError:
        raise ValueError(f"no workflow description version {version}") from None


def get_tool_description(
    tool_name: ToolName,
    disclosure: ToolDisclosure | ToolDisclosureName = ToolDisclosure.CATALOG,
    version: int = 1,
    overrides: dict[ToolName, str] | None = None,
) -> str:
    """The description of ``tool_name`` (``execute_typescript``'s depends on ``disclosure``).

    Raises:
        ValueError: Unknown tool, disclosure or version.
    """
    disclosure = ToolDisclosure(disclosure)
    if overrides is not None and tool_name in overrides:
        return overrides[tool_name]
    key = f"{tool_name}_{disclosure.value}" if tool_name == "execute_typescript" else tool_name
    try:
        return _TOOLS[key, version]
    except KeyError:
        raise ValueError(f"no description of {tool_name!r} version {version}") from None


__all__ = ["ToolName", "get_tool_description", "get_workflow_description"]
