/**
 * Upload by drag and drop (or a file picker): hash in the browser, declare the upload, send the
 * bytes where the API says (its own route for a local folder, a presigned URL on S3), complete.
 */
import { useState } from "preact/hooks";
import { request, sendJson } from "../api";
import { hashFile } from "../hash";
import { usePlace } from "../place";

interface Ticket {
  status: string;
  artifact: { uid: string; key: string | null };
  upload?: { url?: string; direct?: boolean; complete_url: string };
}

export function UploadZone({ onUploaded }: { onUploaded: () => void }) {
  const place = usePlace();
  const [status, setStatus] = useState<string>();
  const [over, setOver] = useState(false);
  const [prefix, setPrefix] = useState("");

  const upload = async (files: FileList | null) => {
    if (!files || files.length === 0) return;
    try {
      for (const file of Array.from(files)) {
        setStatus(`hashing ${file.name}…`);
        const hash = await hashFile(file);
        const key = `${prefix.trim().replace(/^\/+/, "")}${file.name}`;
        const ticket = await sendJson<Ticket>("POST", `${place.api}/artifacts/uploads`, {
          name: file.name,
          size: file.size,
          ...hash,
          key,
        });
        if (ticket.upload?.url) {
          setStatus(`uploading ${file.name}…`);
          if (ticket.upload.direct) {
            // a presigned storage URL: no cookie, no header of ours
            const put = await fetch(ticket.upload.url, {
              method: "PUT",
              body: file,
              credentials: "omit",
            });
            // read the (empty) answer to its end: an unread one is cut off and counted as failed
            await put.arrayBuffer();
            if (!put.ok) throw new Error(`storage refused the upload (${put.status})`);
          } else {
            await request(ticket.upload.url, { method: "PUT", body: file });
          }
          await sendJson("POST", ticket.upload.complete_url);
        }
        setStatus(`${ticket.status === "existing" ? "already saved" : "saved"}: ${key}`);
      }
      onUploaded();
    } catch (error) {
      setStatus(`upload failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  };

  return (
    // a drop target for the mouse; the file picker inside is the keyboard's way
    // biome-ignore lint/a11y/noStaticElementInteractions: drag and drop has no semantic element
    <div
      class={`dropzone${over ? " over" : ""}`}
      onDragOver={(e) => {
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={(e) => {
        e.preventDefault();
        setOver(false);
        void upload(e.dataTransfer?.files ?? null);
      }}
      data-testid="dropzone"
    >
      <span>Drop files here to save them as artifacts, or</span>
      <label class="button">
        choose files
        <input
          type="file"
          multiple
          class="visually-hidden"
          onChange={(e) => upload((e.target as HTMLInputElement).files)}
        />
      </label>
      <label for="upload-prefix">under key prefix</label>
      <input
        id="upload-prefix"
        value={prefix}
        placeholder="raw/"
        onInput={(e) => setPrefix((e.target as HTMLInputElement).value)}
      />
      {status && (
        <p role="status" class="muted">
          {status}
        </p>
      )}
    </div>
  );
}
