/**
 * gpt-image answers as OpenAI writes them, at real size when asked: the JSON
 * answer of images.generate and its server-sent-event stream (partial images,
 * then the completed image with its usage). For the SDK's unit and e2e tests.
 */

/** Images API usage of one high-quality 1024x1024 image from a 12-token prompt. */
export const IMAGE_USAGE = {
  input_tokens: 12,
  input_tokens_details: { image_tokens: 0, text_tokens: 12 },
  output_tokens: 4160,
};

/** The fields every image stream event carries besides its type and image. */
export const IMAGE_EVENT_FIELDS = {
  created_at: 1713833628,
  size: '1024x1024',
  quality: 'high',
  background: 'opaque',
  output_format: 'png',
};

/** About `chars` characters of base64 of pseudo-random bytes: an image as the wire carries it. */
export function b64(chars: number, seed = 7): string {
  const raw = Buffer.alloc(Math.ceil((chars * 3) / 4));
  for (let i = 0, x = seed; i < raw.length; i++) raw[i] = x = (x * 1103515245 + 12345) & 0xff;
  return raw.toString('base64');
}

/** The JSON answer of images.generate with one image (2 MB of base64 unless given). */
export function imageAnswer(image = b64(2 * 1024 * 1024), extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    created: 1713833628,
    background: 'opaque',
    data: [{ b64_json: image }],
    output_format: 'png',
    quality: 'high',
    size: '1024x1024',
    usage: IMAGE_USAGE,
    ...extra,
  });
}

/** One server-sent event with its name, lines ended by `eol`. */
export function sseEvent(data: Record<string, unknown>, eol = '\n'): string {
  return `event: ${String(data.type)}${eol}data: ${JSON.stringify(data)}${eol}${eol}`;
}

/** An image stream: `partials` partial images (no usage), then the completed image with IMAGE_USAGE. */
export function imageStream(imageChars: number, { partials = 2, eol = '\n', prefix = '' } = {}): string {
  let text = prefix;
  for (let i = 0; i < partials; i++) {
    text += sseEvent(
      {
        type: 'image_generation.partial_image',
        b64_json: b64(imageChars, i),
        ...IMAGE_EVENT_FIELDS,
        partial_image_index: i,
      },
      eol,
    );
  }
  return (
    text +
    sseEvent(
      { type: 'image_generation.completed', b64_json: b64(imageChars, 9), ...IMAGE_EVENT_FIELDS, usage: IMAGE_USAGE },
      eol,
    )
  );
}
