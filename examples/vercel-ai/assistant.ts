// Vercel AI SDK: wrap the `tools` record passed to generateText / streamText.
import { generateText, stepCountIs, streamText, tool } from "ai";
import { createOpenAI } from "@ai-sdk/openai";
import { z } from "zod";
import { wrapAITools } from "@tollgate/sdk/ai";

/** What the tools really did (the test reads it). */
export const calls: string[] = [];

function governedTools() {
  return wrapAITools(
    {
      weather: tool({
        description: "Weather in a city",
        inputSchema: z.object({ city: z.string() }),
        execute: async ({ city }) => {
          calls.push(`weather ${city}`);
          return `Sunny in ${city}`;
        },
      }),
      delete_record: tool({
        description: "Delete a record",
        inputSchema: z.object({ id: z.string() }),
        execute: async ({ id }) => {
          calls.push(`delete_record ${id}`);
          return `deleted ${id}`;
        },
      }),
      // A streaming tool: an async generator (preliminary results), governed before its first chunk.
      countdown: tool({
        description: "Count down",
        inputSchema: z.object({ from: z.number() }),
        async *execute({ from }) {
          for (let value = from; value >= 0; value -= 1) yield value;
        },
      }),
    },
    { agentId: "ai-sdk-assistant", approvedScope: ["weather", "delete_record", "countdown"], enforcement: "block" },
  );
}

function model() {
  const openai = createOpenAI({ baseURL: process.env.OPENAI_BASE_URL, apiKey: process.env.OPENAI_API_KEY });
  return openai.chat("gpt-4o");
}

/** generateText with governed tools. */
export async function answer(prompt: string) {
  return generateText({ model: model(), tools: governedTools(), prompt, stopWhen: stepCountIs(4) });
}

/** streamText with governed tools; resolves to the final text. */
export async function streamAnswer(prompt: string) {
  const result = streamText({ model: model(), tools: governedTools(), prompt, stopWhen: stepCountIs(4) });
  return { text: await result.text, steps: await result.steps };
}
