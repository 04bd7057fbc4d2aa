/** An ISO timestamp in the reader's locale; the input as it is when it is not a date. */
export function formatTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

/** `https://sqs.eu-west-1.amazonaws.com/222222222222/orders` → `orders`. */
export function queueName(queueUrl: string): string {
  return queueUrl.replace(/\/+$/, '').split('/').pop() || queueUrl;
}
