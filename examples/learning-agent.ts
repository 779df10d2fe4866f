// The article's Example 2, a learning agent, with no retrieve or store call: the server runs Claude's memory tool.
//
// The article's version fetches `conversation_history`, pastes its insights into the prompt, calls
// Claude, then appends to the history and stores it back: four requests and the bookkeeping around
// them. Here the request declares Claude's memory tool and names the user; aipaygent runs the
// model's memory calls (view, create, str_replace...) against that user's memory and returns the
// final answer. Each upstream call of the loop is billed to the API key like any Claude call.
//
// Run against a server (e.g. `npm start` with ANTHROPIC_API_KEY set):
//   AIPAYGENT_URL=http://localhost:3000 AIPAYGENT_API_KEY=apg_... npx tsx examples/learning-agent.ts "How do I optimize database queries?"
import { pathToFileURL } from 'node:url';

export interface LearningAgent {
  /** Base URL of the aipaygent mount, e.g. "http://localhost:3000". */
  baseUrl: string;
  apiKey: string;
  /** A model that supports the memory tool. @default "claude-sonnet-4-5" */
  model?: string;
}

export const SYSTEM_PROMPT =
  'You are a helpful assistant that learns from every conversation with this user. ' +
  'Before answering, read /memories/insights.md if it exists. After answering, record in that file ' +
  'what you learned: the topic asked about and whether it was resolved, one line per conversation.';

/** One turn of the conversation: returns Claude's reply. Memory is read and written by the server. */
export async function handleConversation(agent: LearningAgent, userId: string, userMessage: string): Promise<string> {
  const res = await fetch(`${agent.baseUrl}/claude/message`, {
    method: 'POST',
    headers: { authorization: `Bearer ${agent.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      model: agent.model ?? 'claude-sonnet-4-5',
      max_tokens: 1024,
      system: SYSTEM_PROMPT,
      messages: [{ role: 'user', content: userMessage }],
      tools: [{ type: 'memory_20250818', name: 'memory' }],
      memory: { user_id: userId },
    }),
  });
  const body = (await res.json()) as { content?: Array<{ type: string; text?: string }>; error?: { message: string } };
  if (!res.ok) throw new Error(`aipaygent answered ${res.status}: ${body.error?.message ?? 'no message'}`);
  return (body.content ?? []).filter((b) => b.type === 'text').map((b) => b.text).join('\n');
}

// Usage, as in the article.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const agent = { baseUrl: process.env.AIPAYGENT_URL ?? 'http://localhost:3000', apiKey: process.env.AIPAYGENT_API_KEY ?? '' };
  const reply = await handleConversation(agent, 'user_456', process.argv[2] ?? 'How do I optimize database queries?');
  console.log(reply);
}
