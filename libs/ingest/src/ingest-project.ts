import { ApiKeysService, Principal } from '@tokentally/auth';
import { DomainError, field, parseOrThrow } from '@tokentally/common';
import type { IngestRequestRejection } from '@tokentally/observability';

/**
 * The project a request writes events to (POST /v1/events, and the OTLP
 * input): an ingest key writes to its own project; an admin names one with
 * ?project_id=. An ingest key naming another project is refused (403), not
 * silently written to its own, so a misconfigured client finds out.
 * `refused` hears why a request was refused (the ingest metrics count it).
 */
export async function ingestProjectOf(
  keys: ApiKeysService,
  principal: Principal,
  projectQuery: string | undefined,
  refused: (reason: IngestRequestRejection) => void = () => {},
): Promise<string> {
  if (principal.role === 'ingest') {
    if (projectQuery !== undefined && projectQuery !== principal.projectId) {
      refused('wrong_project');
      throw new DomainError(
        'forbidden',
        `This ingest key writes only to project ${principal.projectId}; project_id names another project.`,
        [{ path: 'project_id', message: 'must be the project of the ingest key (or left out)' }],
      );
    }
    return principal.projectId!;
  }
  let projectId: string;
  try {
    projectId = parseOrThrow(field.uuid(), projectQuery, 'project_id');
  } catch (error) {
    refused('invalid_project_id');
    throw error;
  }
  if (!(await keys.projectExists(projectId))) {
    refused('unknown_project');
    throw DomainError.validation([{ path: 'project_id', message: 'is not a known project' }]);
  }
  return projectId;
}
