"""A LangGraph agent with a Valkey semantic cache, served by Bedrock AgentCore Runtime."""
