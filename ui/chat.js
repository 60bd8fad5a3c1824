// The orchestrator chat: you, the orchestrator and the agents in one
// conversation, as of the shown moment, and a box to talk to the orchestrator.
//
// Replies stream in as they are written: partial text arrives as `delta`s
// (live only, never stored) and shows as a draft at the bottom; when the
// stored message arrives as an event, it takes the draft's place.

import { chatMessages, chatLength } from "./reducer.js";
import { h, clock } from "./format.js";
import { hue } from "./agents.js";
import { BottomFollower } from "./follow.js";

const WINDOW = 50; // messages drawn at first (a screen shows ten or so); "earlier messages" draws more

/**
 * Partial replies being written, by who writes them ("orchestrator" or an
 * agent id). Not part of the reduced state: deltas are not events, and a
 * replay has none.
 */
export class Drafts {
  constructor() {
    this.byWriter = new Map(); // writer -> {role, author, agentId, text}
  }

  delta(delta) {
    const isAgent = delta.kind === "agent_text_delta";
    const writer = isAgent ? delta.agent_id : "orchestrator";
    const draft = this.byWriter.get(writer) ?? {
      role: isAgent ? "agent" : "orchestrator",
      author: isAgent ? delta.agent ?? "agent" : "orchestrator",
      agentId: isAgent ? delta.agent_id : null,
      text: "",
    };
    this.byWriter.set(writer, { ...draft, text: draft.text + (delta.text ?? "") });
  }

  /** A stored event arrived: what it completes is no longer a draft. */
  stored(event) {
    const writer = event.stream_type === "session" ? "orchestrator" : event.stream_id;
    const draft = this.byWriter.get(writer);
    if (!draft) return;
    const text = event.payload?.text;
    if (event.type === "OrchestratorReplied" || event.type === "AgentTextEmitted") {
      // The next block may already be streaming behind this one: keep what follows it.
      const rest = draft.text.startsWith(text) ? draft.text.slice(text.length).trimStart() : "";
      if (rest) this.byWriter.set(writer, { ...draft, text: rest });
      else this.byWriter.delete(writer);
    } else if (["TurnCompleted", "AgentInterrupted", "AgentFailed", "SessionInterrupted"].includes(event.type)) {
      this.byWriter.delete(writer); // the turn is over: nothing more is coming
    }
  }

  list() {
    return [...this.byWriter.values()].filter((d) => d.text.trim());
  }
}

export class ChatPanel {
  /** @param send async (text) => void, throws an Error to show */
  constructor(root, send) {
    this.send = send;
    this.limit = WINDOW;
    this.drawn = new Map(); // message id -> node
    this.earlier = h("button.link.earlier", { type: "button", hidden: true, onclick: () => this.showEarlier() });
    this.messages = h("div.chat-messages#chat", null);
    this.drafts = h("div.chat-drafts");
    this.working = h("div.chat-working", { hidden: true }, "orchestrator is working", h("span.dots"));
    this.scroller = h("div.chat-scroll", null, this.earlier, this.messages, this.drafts, this.working);
    this.follower = new BottomFollower(this.scroller);
    this.input = h("textarea#message", {
      rows: 2,
      placeholder: "Message the orchestrator — Enter to send, Shift+Enter for a new line, @agent to command one directly",
      onkeydown: (e) => {
        if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
          e.preventDefault();
          this.submit();
        }
      },
    });
    this.sendButton = h("button.primary#send", { type: "button", onclick: () => this.submit() }, "Send");
    this.error = h("div.chat-error", { hidden: true });
    root.append(
      h("h2", null, "Chat"),
      this.scroller,
      h("div.composer", null, this.error, h("div.composer-row", null, this.input, this.sendButton)),
    );
  }

  async submit() {
    const text = this.input.value.trim();
    if (!text || this.input.disabled) return;
    this.input.disabled = this.sendButton.disabled = true;
    this.error.hidden = true;
    try {
      await this.send(text);
      this.input.value = "";
      this.follower.set(true);
    } catch (error) {
      this.error.textContent = error.message;
      this.error.hidden = false;
    } finally {
      this.input.disabled = this.sendButton.disabled = false;
      this.input.focus();
    }
  }

  showEarlier() {
    this.limit += WINDOW;
    this.follower.set(false);
    const before = this.scroller.scrollHeight - this.scroller.scrollTop;
    this.render(this.lastState, this.lastDrafts);
    this.scroller.scrollTop = this.scroller.scrollHeight - before; // keep the reader's place
  }

  /** @param drafts partial replies to show below the chat (live view only), or null */
  render(state, drafts) {
    this.lastState = state;
    this.lastDrafts = drafts;
    const messages = chatMessages(state, this.limit);
    const hidden = chatLength(state) - messages.length;
    this.earlier.hidden = hidden <= 0;
    this.earlier.textContent = `${hidden.toLocaleString()} earlier messages`;
    this.placeMessages(messages);
    this.drafts.replaceChildren(...(drafts?.list() ?? []).map((d) => bubble({ ...d, id: "draft" }, true)));
    this.working.hidden = !(drafts && state.session.busy && !drafts.byWriter.has("orchestrator"));
  }

  /** Back to the bottom if following it; after every other DOM write of a frame. */
  stick() {
    this.follower.stick();
  }

  placeMessages(messages) {
    const wanted = new Set(messages.map((m) => m.id));
    for (const [id, node] of this.drawn) {
      if (!wanted.has(id)) {
        node.remove();
        this.drawn.delete(id);
      }
    }
    let next = this.messages.firstElementChild;
    for (const message of messages) {
      let node = this.drawn.get(message.id);
      if (!node) {
        node = bubble(message, false);
        this.drawn.set(message.id, node);
      }
      if (node === next) next = next.nextElementSibling;
      else this.messages.insertBefore(node, next);
    }
  }
}

function bubble(message, streaming) {
  if (message.kind === "tool_use") {
    return h("div.msg.tool", { dataset: { id: message.id, role: message.role } }, "⚙ ", message.text);
  }
  if (message.kind === "note") {
    return h("div.msg.note", { dataset: { id: message.id, role: message.role } }, "⏸ ", message.text);
  }
  const node = h(`div.msg.${message.role}${streaming ? ".streaming" : ""}`, {
    dataset: { id: message.id, role: message.role, author: message.author },
  },
  h("div.msg-head", null, h("span.msg-author", null, message.author), h("span.msg-time", null, clock(message.at))),
  h("div.msg-text", null, message.text));
  if (message.role === "agent") node.style.setProperty("--agent-hue", hue(message.author));
  return node;
}
