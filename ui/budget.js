// Budgets and spend: a bar of what is spent of a budget, editable in place.
// A click on the limit turns it into an input; Enter sets the budget typed
// (empty: no budget any more), Escape or leaving the input gives up. In
// replay a meter only shows what was: the past is not edited.

import { h, usd, setText } from "./format.js";

/**
 * How far a spend is into its budget: `percent` (whole, may pass 100) and the
 * `level` a bar is coloured by: "none" (no budget), "ok", "warned" (a warning
 * was given: 50, 75 or 90 %), "high" (90 % or more), "over" (all spent).
 */
export function budgetLevel(spent, budget, warned = 0) {
  if (budget == null) return { percent: null, level: "none" };
  // (The epsilon: 4.6 of 5 is 92 %, though in floating point it is 91.999….)
  const percent = budget > 0 ? Math.floor((100 * (Number(spent) || 0)) / budget + 1e-9) : 100;
  const reached = Math.max(percent, warned);
  const level = reached >= 100 ? "over" : reached >= 90 ? "high" : reached >= 50 ? "warned" : "ok";
  return { percent, level };
}

/**
 * What a person typed as a budget: a number of dollars ("5", "$2.50"), null
 * for none (empty), or undefined when it is not an amount.
 */
export function parseBudget(text) {
  const typed = String(text ?? "").trim();
  if (!typed) return null;
  const value = typed.replace(/^\$\s*/, "");
  if (!/^\d+(\.\d*)?$|^\.\d+$/.test(value)) return undefined;
  return Number(value);
}

/** A budget as people set them: "$5.00" (a spend keeps its fractions of a cent: usd). */
export function dollars(amount) {
  return `$${Number(amount).toFixed(2)}`;
}

/** The meter's words: "$0.0123 of $5.00 · 0%", or "$0.0123 · no budget". */
export function budgetText(spent, budget) {
  if (budget == null) return `${usd(spent)} · no budget`;
  const { percent } = budgetLevel(spent, budget);
  return `${usd(spent)} of ${dollars(budget)} · ${percent}%`;
}

/** What the log warned of a budget (BudgetWarned's percent; 100: BudgetExceeded), or "". */
export function warningText(warned) {
  if (warned >= 100) return "spent: commands are refused";
  return warned ? `${warned}% spent` : "";
}

export class BudgetMeter {
  /**
   * @param what whose budget it is, for titles ("the session's", "alice's")
   * @param save async (budgetUsd or null) => void; throws an Error to show
   */
  constructor(what, save, id = null) {
    this.what = what;
    this.save = save;
    this.fill = h("span.budget-fill");
    this.limit = h("button.budget-limit", {
      type: "button",
      onclick: (e) => {
        e.stopPropagation();
        this.edit();
      },
    });
    this.input = h("input.budget-input", {
      type: "text", inputMode: "decimal", autocomplete: "off", hidden: true,
      placeholder: "$ budget, empty: none",
      title: `${what} budget in dollars: Enter sets it, an empty one removes it, Escape gives up`,
      onclick: (e) => e.stopPropagation(),
      onkeydown: (e) => this.key(e),
      onblur: () => this.close(),
    });
    this.warning = h("span.budget-warning", { hidden: true });
    this.el = h(`div.budget${id ? `#${id}` : ""}`, null,
      h("span.budget-bar", null, this.fill), this.limit, this.input, this.warning);
    this.budget = null;
    this.editable = false;
  }

  render(spent, budget, warned, editable) {
    const { percent, level } = budgetLevel(spent, budget, warned);
    this.el.dataset.level = level;
    this.fill.style.width = `${Math.min(percent ?? 0, 100)}%`;
    setText(this.limit, budget == null ? (editable ? "set budget" : "no budget") : `of ${dollars(budget)}`);
    const warning = warningText(warned);
    setText(this.warning, warning ? `⚠ ${warning}` : "");
    this.warning.hidden = !warning;
    this.el.title = `${this.what} spend: ${budgetText(spent, budget)}${warning ? ` · ${warning}` : ""}`;
    this.limit.title = editable ? `change ${this.what} budget` : this.el.title;
    this.limit.disabled = !editable;
    this.budget = budget;
    this.editable = editable;
    if (!editable) this.close();
  }

  edit() {
    if (!this.editable) return;
    this.input.value = this.budget == null ? "" : String(this.budget);
    this.input.classList.remove("invalid");
    this.limit.hidden = true;
    this.input.hidden = false;
    this.input.focus();
    this.input.select();
  }

  close() {
    this.input.hidden = true;
    this.limit.hidden = false;
  }

  async key(e) {
    e.stopPropagation(); // the page's own shortcuts are not for this input
    if (e.key === "Escape") {
      this.close();
      return;
    }
    if (e.key !== "Enter") return;
    const budget = parseBudget(this.input.value);
    this.input.classList.toggle("invalid", budget === undefined);
    if (budget === undefined) return;
    this.input.readOnly = true; // not disabled: that would blur it, and blurring gives up
    try {
      await this.save(budget);
      this.budget = budget;
      this.close();
    } catch (error) {
      this.input.classList.add("invalid");
      this.input.title = error.message;
    } finally {
      this.input.readOnly = false;
    }
  }
}
