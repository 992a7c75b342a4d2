// A minimal agent in the shape the seed describes: an object with a `.tools` array whose tools have
// `.run`, and a `.run(task)` that uses them. Any framework with this shape works the same way.
export const calls: string[] = [];

export interface PlainTool {
  name: string;
  description: string;
  run(input: string): Promise<string>;
}

export function createAgent() {
  return {
    tools: [
      { name: "read_file", description: "Read a file", run: async (path: string) => { calls.push(`read_file ${path}`); return `Contents of ${path}`; } },
      { name: "web_search", description: "Search the web", run: async (query: string) => { calls.push(`web_search ${query}`); return `Results for ${query}`; } },
      { name: "send_email", description: "Send an email", run: async (to: string) => { calls.push(`send_email ${to}`); return `sent to ${to}`; } },
    ] as PlainTool[],
    /** A scripted "agent": search, read the attachment, mail the team. */
    async run(task: string): Promise<string> {
      const [readFile, webSearch, sendEmail] = this.tools as [PlainTool, PlainTool, PlainTool];
      await webSearch.run(task);
      const text = await readFile.run("/attachments/report.txt");
      await sendEmail.run("team@example.com");
      return `Summary sent: ${text}`;
    },
  };
}

export const agent = createAgent();
