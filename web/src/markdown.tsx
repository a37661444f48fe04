/**
 * Markdown rendered safely: marked only tokenizes; the tokens become Preact elements here, so
 * text is always text (escaped by the DOM), raw HTML is shown as text, and links keep only
 * http(s) and mailto targets. Nothing goes through innerHTML.
 */
import { lexer, type Token, type Tokens } from "marked";
import type { ComponentChildren } from "preact";

const SAFE_URL = /^(https?:|mailto:|#|\/(?!\/))/i;

function inline(tokens: Token[] | undefined): ComponentChildren {
  return (tokens ?? []).map((t, i) => <Inline key={i} token={t} />);
}

function Inline({ token: t }: { token: Token }): ComponentChildren {
  switch (t.type) {
    case "strong":
      return <strong>{inline((t as Tokens.Strong).tokens)}</strong>;
    case "em":
      return <em>{inline((t as Tokens.Em).tokens)}</em>;
    case "del":
      return <del>{inline((t as Tokens.Del).tokens)}</del>;
    case "codespan":
      return <code>{(t as Tokens.Codespan).text}</code>;
    case "br":
      return <br />;
    case "link": {
      const link = t as Tokens.Link;
      const children = inline(link.tokens);
      return SAFE_URL.test(link.href) ? (
        <a href={link.href} rel="noopener noreferrer nofollow" target="_blank">
          {children}
        </a>
      ) : (
        children
      );
    }
    case "image":
      // images of a document would be fetched from anywhere: shown as their alt text
      return <span class="muted">[image: {(t as Tokens.Image).text}]</span>;
    case "text": {
      const text = t as Tokens.Text;
      return text.tokens ? inline(text.tokens) : decode(text.text);
    }
    case "escape":
      return <>{(t as Tokens.Escape).text}</>;
    default:
      return <>{decode((t as { raw?: string }).raw ?? "")}</>;
  }
}

/** marked escapes some characters as entities in text: back to characters (shown as text). */
function decode(s: string): string {
  return s.replace(
    /&(amp|lt|gt|quot|#39);/g,
    (_, e: string) => ({ amp: "&", lt: "<", gt: ">", quot: '"', "#39": "'" })[e] ?? _,
  );
}

function Block({ token: t }: { token: Token }): preact.JSX.Element | null {
  switch (t.type) {
    case "heading": {
      const h = t as Tokens.Heading;
      const Tag = `h${Math.min(6, h.depth + 2)}` as "h3";
      return <Tag>{inline(h.tokens)}</Tag>;
    }
    case "paragraph":
      return <p>{inline((t as Tokens.Paragraph).tokens)}</p>;
    case "code":
      return (
        <pre>
          <code>{(t as Tokens.Code).text}</code>
        </pre>
      );
    case "blockquote":
      return <blockquote>{blocks((t as Tokens.Blockquote).tokens)}</blockquote>;
    case "hr":
      return <hr />;
    case "list": {
      const list = t as Tokens.List;
      const items = list.items.map((item, i) => <li key={i}>{blocks(item.tokens)}</li>);
      return list.ordered ? <ol>{items}</ol> : <ul>{items}</ul>;
    }
    case "table": {
      const table = t as Tokens.Table;
      return (
        <table class="grid compact">
          <thead>
            <tr>
              {table.header.map((c, i) => (
                <th key={i} scope="col">
                  {inline(c.tokens)}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {table.rows.map((row, r) => (
              <tr key={r}>
                {row.map((c, i) => (
                  <td key={i}>{inline(c.tokens)}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      );
    }
    case "space":
      return null;
    case "html":
      // raw HTML never becomes markup
      return (
        <pre>
          <code>{(t as Tokens.HTML).text}</code>
        </pre>
      );
    case "text": {
      const text = t as Tokens.Text;
      return <p>{text.tokens ? inline(text.tokens) : decode(text.text)}</p>;
    }
    default:
      return <p>{(t as { raw?: string }).raw}</p>;
  }
}

function blocks(tokens: Token[]): ComponentChildren {
  return tokens.map((t, i) => <Block key={i} token={t} />);
}

export function Markdown({ source }: { source: string }) {
  return <div class="markdown">{blocks(lexer(source))}</div>;
}
