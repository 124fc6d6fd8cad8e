import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { Roles } from '@tokentally/auth';
import { ApiOperation, DomainError, FieldError } from '@tokentally/common';
import { parseDimension, parseSuggestionQuery, parseTagKey } from './dto/dimension-values.dto';
import { DimensionValuesService } from './dimension-values.service';
import { DIMENSIONS_API } from './reporting.api';

type Query = Record<string, string | string[] | undefined>;

/** Filter suggestions (docs/reports.md, "Filter suggestions"): values present in the data, most spent first. */
@Controller('v1/reports')
@Roles('viewer')
export class DimensionsController {
  constructor(@Inject(DimensionValuesService) private readonly values: DimensionValuesService) {}

  @Get('dimensions/:dimension/values')
  @ApiOperation(DIMENSIONS_API.dimensionValues)
  dimensionValues(@Param('dimension') dimension: string, @Query() query: Query) {
    const [d, s] = both(
      () => parseDimension(dimension),
      () => parseSuggestionQuery(query),
    );
    return this.values.dimensionValues({ kind: 'dimension', dimension: d }, s);
  }

  @Get('tags')
  @ApiOperation(DIMENSIONS_API.tagKeys)
  tagKeys(@Query() query: Query) {
    return this.values.tagKeys(parseSuggestionQuery(query));
  }

  @Get('tags/:key/values')
  @ApiOperation(DIMENSIONS_API.tagValues)
  tagValues(@Param('key') key: string, @Query() query: Query) {
    const [k, s] = both(
      () => parseTagKey(key),
      () => parseSuggestionQuery(query),
    );
    return this.values.tagValues(k, s);
  }
}

/** Parses a path parameter and the query, naming every bad field of both in one 400. */
function both<A, B>(first: () => A, second: () => B): [A, B] {
  const errors: FieldError[] = [];
  const attempt = <T>(parse: () => T): T | undefined => {
    try {
      return parse();
    } catch (error) {
      if (!(error instanceof DomainError) || error.kind !== 'validation') throw error;
      errors.push(...error.errors);
      return undefined;
    }
  };
  const a = attempt(first);
  const b = attempt(second);
  if (errors.length > 0) throw DomainError.validation(errors);
  return [a as A, b as B];
}
