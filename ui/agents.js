// The agents sidebar: each agent's status (with a live indicator) and how
// many of its commands wait, model, tokens, cost and current task, the tool
// it asks to use while it awaits approval, the AI summary of what it did last,
// and its spend against its budget (editable in place), as of the shown moment.
//
// Cards are kept and updated in place, keyed by agent id, so a working
// agent's pulse runs smoothly while events stream in.

import { agentList } from "./reducer.js";
import { h, spendLine, spendDetail } from "./format.js";
import { AgentStatus } from "./meta.js";
import { BudgetMeter } from "./budget.js";

/** What a card says of the tool it runs, or asks to run: "⏸ asks to use Bash ls". */
export function toolLine(agent) {
  if (agent.status === AgentStatus.AWAITING_APPROVAL) {
    return `⏸ asks to use ${agent.awaiting ?? agent.current_tool ?? "a tool"}`;
  }
  return agent.current_tool ? `▸ ${agent.current_tool}` : "";
}

/** What a card says of an agent's status: "working · 2 waiting". */
export function statusLabel(agent) {
  const label = agent.status === AgentStatus.HIBERNATING ? `${agent.status} ☾` : agent.status;
  return agent.queued ? `${label} · ${agent.queued} waiting` : label;
}

export class AgentsPanel {
  /**
   * @param root the panel's element
   * @param actions {select(name), interrupt(name), remove(name), setBudget(name, budgetUsd or null),
   *   openQueue()} what the card's controls do
   */
  constructor(root, actions) {
    this.actions = actions;
    this.title = h("h2", null, "Agents");
    this.list = h("div.agent-list#agents");
    this.empty = h("p.empty", null, "No agents yet. Ask the orchestrator to create one.");
    root.append(this.title, this.list, this.empty);
    this.cards = new Map(); // agent id -> {card, fields, last}
  }

  render(state, live) {
    const changedMode = live !== this.live;
    this.live = live;
    const agents = agentList(state);
    const alive = agents.filter((a) => a.status !== AgentStatus.DELETED).length;
    this.title.textContent = `Agents · ${alive}`;
    this.empty.hidden = agents.length > 0;
    this.list.classList.toggle("replaying", !live);
    const wanted = new Set(agents.map((a) => a.agent_id));
    for (const [id, entry] of this.cards) {
      if (!wanted.has(id)) {
        entry.card.remove();
        this.cards.delete(id);
      }
    }
    // Cards are moved only when out of place: moving one would restart its pulse.
    let next = this.list.firstElementChild;
    for (const agent of agents) {
      let entry = this.cards.get(agent.agent_id);
      if (!entry) {
        entry = this.makeCard(agent);
        this.cards.set(agent.agent_id, entry);
      }
      if (entry.last !== agent || changedMode) this.fill(entry, agent); // states share unchanged agents
      if (entry.card === next) next = next.nextElementSibling;
      else this.list.insertBefore(entry.card, next);
    }
  }

  makeCard(agent) {
    const fields = {
      dot: h("span.status-dot"),
      name: h("span.agent-name"),
      status: h("span.agent-status"),
      model: h("div.agent-model"),
      task: h("div.agent-task"),
      tool: h("div.agent-tool"),
      summary: h("div.agent-summary"),
      usage: h("div.agent-usage"),
    };
    const name = agent.name;
    fields.budget = new BudgetMeter(`${name}'s`, (budget) => this.actions.setBudget(name, budget));
    fields.tool.addEventListener("click", (e) => {
      if (card.dataset.status !== AgentStatus.AWAITING_APPROVAL) return;
      e.stopPropagation();
      this.actions.openQueue();
    });
    const controls = h("div.agent-controls", null,
      h("button.small", { type: "button", title: `stop ${name}'s current task`, dataset: { action: "interrupt" },
        onclick: (e) => { e.stopPropagation(); this.actions.interrupt(name); } }, "interrupt"),
      h("button.small.danger", { type: "button", title: `delete ${name}`, dataset: { action: "delete" },
        onclick: (e) => { e.stopPropagation(); this.actions.remove(name); } }, "delete"));
    const card = h("div.agent", {
      dataset: { agentId: agent.agent_id, name },
      title: `show only ${name}'s events`,
      onclick: () => this.actions.select(name),
    },
    h("div.agent-head", null, fields.dot, fields.name, fields.status),
    fields.model, fields.task, fields.tool, fields.summary, fields.usage, fields.budget.el, controls);
    card.style.setProperty("--agent-hue", hue(name));
    return { card, fields, last: null };
  }

  fill(entry, agent) {
    const { card, fields } = entry;
    card.dataset.status = agent.status;
    fields.name.textContent = agent.name;
    fields.status.textContent = statusLabel(agent);
    fields.model.textContent = agent.template ? `${agent.model} · ${agent.template}` : agent.model;
    fields.task.textContent = agent.current_task ? `task: ${agent.current_task}` : "no task yet";
    fields.tool.textContent = toolLine(agent);
    fields.tool.hidden = !fields.tool.textContent;
    fields.tool.title = agent.status === AgentStatus.AWAITING_APPROVAL ? "open the approval queue" : "";
    fields.summary.textContent = agent.summary?.text ?? "";
    fields.summary.hidden = !agent.summary;
    fields.summary.title = agent.summary ? `AI summary of what ${agent.name} did last (event #${agent.summary.of})` : "";
    const editable = this.live && agent.status !== AgentStatus.DELETED;
    fields.budget.render(agent.cost_usd, agent.budget_usd, agent.budget_warned, editable);
    fields.usage.textContent = spendLine(agent);
    fields.usage.title = spendDetail(agent);
    fields.usage.dataset.discrepancies = String(agent.discrepancies);
    entry.last = agent;
  }
}

/** A stable colour for a name, so an agent looks the same everywhere. */
export function hue(name) {
  let hash = 0;
  for (const char of String(name)) hash = (hash * 31 + char.codePointAt(0)) >>> 0;
  return String(hash % 360);
}
