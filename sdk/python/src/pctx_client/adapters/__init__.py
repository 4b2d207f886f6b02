"""Framework adapters: the three Code Mode tools as each agent framework's own tool objects.

Use them through :class:`pctx_client.Pctx` (``p.langchain_tools()``, ``p.crewai_tools()``,
``p.openai_tools()``, ``p.openai_tool_schemas()``, ``p.pydantic_ai_tools()``). Every
adapter takes the tools' names, descriptions and input schemas from the server, fetched
during ``await p.connect()``, so the model reads exactly what an MCP client of the same
pctx reads; and each returns the same text the MCP tools return. A framework is imported
only when its adapter is used; a missing one raises an ImportError naming the extra to
install.
"""
