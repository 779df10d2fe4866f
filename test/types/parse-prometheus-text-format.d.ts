// Types of parse-prometheus-text-format (it ships none): the families of a Prometheus text exposition.
declare module 'parse-prometheus-text-format' {
  interface Series { value?: string; labels?: Record<string, string>; buckets?: Record<string, string>; count?: string; sum?: string }
  interface Family { name: string; help: string; type: string; metrics: Series[] }
  export default function parse(text: string): Family[];
}
