// Private Web Worker of _jpeg_pool.ts: decodes one chunk of JPEG files per message and posts
// back the pixels (transferred) or the error's class name and message.
import { type DecodeReply, type DecodeRequest, decodeRequest } from "./_jpeg_pool.ts";

const scope = self as unknown as {
  onmessage: ((e: MessageEvent<DecodeRequest>) => void) | null;
  postMessage(message: DecodeReply, transfer?: Transferable[]): void;
};

scope.onmessage = async (e) => {
  try {
    const pixels = await decodeRequest(e.data);
    scope.postMessage({ pixels }, [pixels.buffer]);
  } catch (err) {
    const error = err instanceof Error
      ? { name: err.name, message: err.message }
      : { name: "Error", message: String(err) };
    scope.postMessage({ error });
  }
};
