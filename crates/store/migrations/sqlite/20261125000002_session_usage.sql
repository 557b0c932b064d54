-- What the LLM of a session's tasks consumed, summed over the session (totalInputTokens,
-- totalOutputTokens, llmCostUsd); the cost is a decimal string, as the API returns it.

ALTER TABLE sessions ADD COLUMN total_input_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN total_output_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN llm_cost_usd TEXT NOT NULL DEFAULT '0';
