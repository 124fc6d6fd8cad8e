import { Inject, Injectable } from '@nestjs/common';
import { DomainError } from '@tokentally/common';
import { CalendarMonth, Decimal, formatUsd, monthRange, monthText, TOKEN_KINDS } from '@tokentally/core';
import { csvLine } from './csv';
import { AssignmentRow, AssignmentWrite, CostCenterRow, CostCentersRepository } from './cost-centers.sql';
import { CreateAssignment } from './dto/cost-centers.dto';

const UNASSIGNED = '(unassigned)';
const NONE = '(none)';
const isUniqueViolation = (e: unknown) => (e as { driverError?: { code?: string } })?.driverError?.code === '23505';

const assignmentView = (a: AssignmentRow) => ({
  id: a.id,
  project_id: a.project_id,
  team: a.team,
  valid_from: a.valid_from,
  valid_to: a.valid_to,
  created_at: new Date(a.created_at).toISOString(),
});

const centerView = (c: CostCenterRow, assignments: AssignmentRow[]) => ({
  id: c.id,
  name: c.name,
  code: c.code,
  created_at: new Date(c.created_at).toISOString(),
  assignments: assignments.filter((a) => a.cost_center_id === c.id).map(assignmentView),
});

/**
 * Cost centers, the dated assignments of projects and teams to them, and the
 * chargeback CSV of a month (docs/finance.md). Each call's cost is charged to
 * the cost center assigned on its UTC day; what no assignment covers is
 * charged to "(unassigned)", so the CSV's total is always the month's spend.
 */
@Injectable()
export class CostCentersService {
  constructor(@Inject(CostCentersRepository) private readonly repository: CostCentersRepository) {}

  async create(name: string, code: string | null) {
    try {
      return centerView(await this.repository.insertCenter(name, code), []);
    } catch (e) {
      if (isUniqueViolation(e))
        throw new DomainError('conflict', `A cost center named "${name}" exists already.`, [
          { path: 'name', message: 'is taken by another cost center' },
        ]);
      throw e;
    }
  }

  async list() {
    const [centers, assignments] = await Promise.all([this.repository.centers(), this.repository.assignments()]);
    return { data: centers.map((c) => centerView(c, assignments)) };
  }

  async get(id: string) {
    const center = await this.repository.center(id);
    if (!center) throw DomainError.notFound('The cost center');
    return centerView(center, await this.repository.assignments());
  }

  async assign(costCenterId: string, a: CreateAssignment) {
    if (!(await this.repository.center(costCenterId))) throw DomainError.notFound('The cost center');
    if (a.project_id && !(await this.repository.projectExists(a.project_id)))
      throw DomainError.validation([{ path: 'project_id', message: 'is not a project' }]);
    const result = await this.repository.addAssignment({
      costCenterId,
      projectId: a.project_id ?? null,
      team: a.team ?? null,
      validFrom: a.valid_from,
      validTo: a.valid_to ?? null,
    });
    return assignmentView(refusedOrDone(result, 'valid_from'));
  }

  async unassign(costCenterId: string, assignmentId: string): Promise<void> {
    const result = await this.repository.deleteAssignment(costCenterId, assignmentId);
    if (!result) throw DomainError.notFound('The assignment');
    refusedOrDone(result, 'assignment_id');
  }

  /** Ends an assignment at `validTo` (a UTC day, exclusive; null: no end), e.g. when a project moves to another. */
  async endAssignment(costCenterId: string, assignmentId: string, validTo: string | null) {
    const result = await this.repository.endAssignment(costCenterId, assignmentId, validTo);
    if (!result) throw DomainError.notFound('The assignment');
    return assignmentView(refusedOrDone(result, 'valid_to'));
  }

  /** The chargeback CSV of a UTC month: one row per cost center, project, team, provider and model, then the total. */
  async chargebackCsv(
    month: CalendarMonth,
    basis: 'restated' | 'ingested',
    projects: string[] | null,
  ): Promise<string> {
    const { from, to } = monthRange(month, 'UTC');
    const rows = await this.repository.chargeback(from, to, projects, basis);
    const m = monthText(month);
    const tokenColumns = TOKEN_KINDS.map((k) => `${k}_tokens` as const);
    const lines = [
      '\ufeff' +
        csvLine([
          'month',
          'basis',
          'cost_center',
          'cost_center_code',
          'project_id',
          'project',
          'team',
          'provider',
          'model',
          ...tokenColumns,
          'images',
          'events',
          'unpriced_events',
          'partial_events',
          'cost_usd',
        ]),
    ];
    let total = Decimal.ZERO;
    const sums = new Map<string, bigint>();
    const add = (key: string, value: string) => sums.set(key, (sums.get(key) ?? 0n) + BigInt(value));
    for (const r of rows) {
      const cost = Decimal.parse(r.cost_usd);
      total = total.add(cost);
      for (const key of [...tokenColumns, 'images', 'events', 'unpriced_events', 'partial_events'] as const)
        add(key, r[key]);
      lines.push(
        csvLine([
          m,
          basis,
          r.cost_center ?? UNASSIGNED,
          r.cost_center_code ?? '',
          r.project_id,
          r.project ?? '',
          r.team || NONE,
          r.provider,
          r.model,
          ...tokenColumns.map((k) => r[k]),
          r.images,
          r.events,
          r.unpriced_events,
          r.partial_events,
          formatUsd(cost),
        ]),
      );
    }
    const sum = (key: string) => String(sums.get(key) ?? 0n);
    lines.push(
      csvLine([
        m,
        basis,
        'TOTAL',
        '',
        '',
        '',
        '',
        '',
        '',
        ...tokenColumns.map(sum),
        sum('images'),
        sum('events'),
        sum('unpriced_events'),
        sum('partial_events'),
        formatUsd(total),
      ]),
    );
    return lines.join('');
  }
}

/** The assignment written, or the refusal as a problem naming `field`. */
function refusedOrDone(result: AssignmentWrite, field: string): AssignmentRow {
  if ('done' in result) return result.done;
  if ('closedMonths' in result) {
    const months = result.closedMonths;
    throw new DomainError(
      'conflict',
      `The days this changes reach into closed months (${months.join(', ')}): their chargeback is locked with them. ` +
        `Change the assignment from the first open month on, or reopen ${months.length > 1 ? 'them' : 'it'} first ` +
        `(POST /v1/periods/${months[0]}/reopen with a reason).`,
      [{ path: field, message: `reaches into closed months: ${months.join(', ')}` }],
      { closed_months: months },
    );
  }
  if ('notAfterStart' in result)
    throw DomainError.validation([
      { path: 'valid_to', message: `must be after valid_from (${result.notAfterStart.valid_from})` },
    ]);
  const o = result.overlapping;
  throw new DomainError(
    'conflict',
    `Those days are already assigned for the same ${describeTarget(o)}: assignment ${o.id} ` +
      `(cost center ${o.cost_center_id}) from ${o.valid_from} ${o.valid_to ? `until ${o.valid_to}` : 'with no end'}. ` +
      'End or delete it first, or start this one after it.',
    [{ path: field, message: `overlaps assignment ${o.id}` }],
    { overlapping_assignment: assignmentView(o) },
  );
}

function describeTarget(a: AssignmentRow): string {
  if (a.project_id && a.team) return `team "${a.team}" in project ${a.project_id}`;
  return a.project_id ? `project ${a.project_id}` : `team "${a.team}"`;
}
