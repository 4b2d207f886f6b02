"""Framework adapters: the Code Mode tools as each agent framework's own tool objects.

Use them through :class:`pctx_client.Pctx` (``p.langchain_tools()``, ``p.crewai_tools()``,
``p.openai_agents_tools()``, ``p.pydantic_ai_tools()``, ``p.claude_agent_sdk_tools()``,
``p.openai_tool_schemas()``). Each takes the disclosure (which tools: catalog or
filesystem) and optional description overrides, needs no connection to be built, and
returns the text the published client's adapters return. A framework is imported only when
its adapter is used; a missing one raises an ImportError naming the extra to install.
"""
