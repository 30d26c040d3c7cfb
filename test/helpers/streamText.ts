// The raw text of an event stream (GET /v1/events), read until the test has what it looks for:
// for assertions on the wire format itself. A relayer's view is eventSourceClient.ts.

/** GET `url` and read its body until `done(text)` holds or `maxReads` chunks came; the stream is closed after. */
export async function streamTextUntil(url: string, done: (text: string) => boolean, maxReads = 50): Promise<{ status: number; contentType: string; text: string }> {
  const controller = new AbortController();
  const response = await fetch(url, { signal: controller.signal });
  const reader = response.body!.getReader();
  let text = "";
  for (let i = 0; i < maxReads && !done(text); i++) text += new TextDecoder().decode((await reader.read()).value);
  controller.abort();
  return { status: response.status, contentType: response.headers.get("content-type") ?? "", text };
}
