/** One bad field: where it is in the request, and what is wrong with it. */
export interface FieldError {
  path: string;
  message: string;
}

export type ProblemKind =
  | 'validation'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'unavailable';

/**
 * What services throw. They know nothing of HTTP: the problem filter maps the
 * kind to a status and renders RFC 9457 problem+json.
 */
export class DomainError extends Error {
  constructor(
    readonly kind: ProblemKind,
    message: string,
    readonly errors: FieldError[] = [],
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }

  static validation(errors: FieldError[], message = 'The request has invalid fields.'): DomainError {
    return new DomainError('validation', message, errors);
  }

  static notFound(what: string): DomainError {
    return new DomainError('not_found', `${what} was not found.`);
  }
}
