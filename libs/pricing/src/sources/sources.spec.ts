import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseLiteLLM } from './litellm';
import { parseOpenRouter } from './openrouter';
import { MalformedSourceError } from './source';
import { parseVercel } from './vercel';

const fixture = (name: string) => fs.readFileSync(path.join(__dirname, '../../../../test/fixtures/pricing', name), 'utf8');

describe('price source adapters', () => {
  it('maps LiteLLM per-token numbers to exact prices per 1M tokens, image models only', () => {
    const quotes = parseLiteLLM(fixture('litellm.json'));
    expect(quotes).toEqual([
      { provider: 'openai', model: 'gpt-image-1', sheet: { input_text: '5', cached_input_text: '1.25', input_image: '10', cached_input_image: '2.5', output_image: '40' } },
      { provider: 'openai', model: 'gpt-image-2', sheet: { input_text: '5', cached_input_text: '1.25', output_text: '10', input_image: '8', output_image: '30' } },
      { provider: 'azure', model: 'gpt-image-1', sheet: { input_text: '5', input_image: '10', output_image: '40' } },
      { provider: 'openai', model: 'dall-e-3', sheet: { per_image: '0.04' } },
    ]);
  });

  it('maps OpenRouter pricing strings, leaving out zero per-request prices', () => {
    expect(parseOpenRouter(fixture('openrouter.json'))).toEqual([
      { provider: 'openrouter', model: 'gpt-image-2', sheet: { input: '5', output: '10', cached_input: '1.25', input_image: '8', output_image: '30' } },
    ]);
  });

  it('maps Vercel AI Gateway one input and one output rate', () => {
    expect(parseVercel(fixture('vercel.json'))).toEqual([{ provider: 'vercel', model: 'gpt-image-2', sheet: { input: '5', output: '30' } }]);
  });

  it('refuses what is not the format', () => {
    expect(() => parseLiteLLM('{"gpt-image-2": ')).toThrow(MalformedSourceError);
    expect(() => parseLiteLLM('[1,2]')).toThrow(MalformedSourceError);
    expect(() => parseOpenRouter('{"models": []}')).toThrow(MalformedSourceError);
    expect(() => parseVercel('<html>')).toThrow(MalformedSourceError);
  });
});
