// Relevance set, user 1 of 3: a backend developer's agent memory (stack, projects, contacts, meetings, snippets, todos).
import { m, type LabelledMemory, type UserSet } from './types.js';

const contacts: LabelledMemory[] = (
  [
    ['jane', 'Jane Okafor', 'Stripe', 'Staff Engineer', 'San Francisco', '+1 415 555 0142', 'met at KubeCon 2025; knows payment retries inside out'],
    ['omar', 'Omar Haddad', 'Acme', 'SRE lead', 'Toronto', '+1 647 555 0199', 'backup on call; prefers Signal over Slack'],
    ['lukas', 'Lukas Müller', 'Zalando', 'Engineering Manager', 'Berlin', '+49 30 5550 7788', 'ex-colleague, hiring Go developers'],
    ['priya', 'Priya Raman', 'Datadog', 'Solutions Engineer', 'Bangalore', '+91 80 5550 3321', 'helped set up the APM dashboards'],
    ['chen', 'Chen Wei', 'Acme', 'Frontend Engineer', 'Vancouver', '+1 604 555 0110', 'owns the design system'],
    ['sofia', 'Sofía Hernández', 'freelance', 'UX Designer', 'Ciudad de México', '+52 55 5550 4410', 'designed the pricing page mockups'],
    ['marcus', 'Marcus Johnson', 'GitHub', 'Developer Advocate', 'Austin', '+1 512 555 0173', 'invited me to speak at the Austin JS meetup'],
    ['aiko', 'Aiko Tanaka', 'Mercari', 'Backend Engineer', 'Tokyo', '+81 3 5550 2211', 'co-maintainer of our open-source rate limiter'],
    ['dmitri', 'Dmitri Volkov', 'JetBrains', 'Product Manager', 'Amsterdam', '+31 20 555 0190', 'wants feedback on the IDE plugin'],
    ['fatima', 'Fatima Zahra', 'Acme', 'Security Engineer', 'London', '+44 20 5550 6612', 'ran the September audit'],
    ['noah', 'Noah Williams', 'Acme', 'CTO', 'New York', '+1 212 555 0101', 'my manager; weekly 1:1 on Mondays at 11'],
    ['elena', 'Elena Rossi', 'Vercel', 'Recruiter', 'Milan', '+39 02 5550 3030', 'reached out about a staff role'],
    ['raj', 'Raj Patel', 'Cloudflare', 'Network Engineer', 'Lisbon', '+351 21 555 0404', 'knows everything about DNS and anycast'],
    ['zoe', 'Zoë Martin', 'Acme', 'Data Analyst', 'Paris', '+33 1 5550 7272', 'builds the revenue dashboards in Metabase'],
    ['tom', 'Tom Becker', 'self-employed', 'Landlord', 'Portland', '+1 503 555 0166', 'apartment repairs: text first, call before 8pm'],
  ] as const
).map(([slug, name, company, role, city, phone, notes]) => m(`contact.${slug}`, { name, company, role, city, phone, email: `${slug}@${company === 'Acme' ? 'acme.dev' : 'example.com'}`, notes }));

const meetings: LabelledMemory[] = (
  [
    ['Q1 planning', ['Noah', 'Omar', 'Chen'], ['focus the quarter on billing reliability', 'no new features in January'], ['Alex: draft the queue design doc']],
    ['Postmortem: January 14 payments outage', ['Noah', 'Omar', 'Fatima'], ['rotate database credentials automatically with Vault'], ['Omar: alert before credentials expire']],
    ['Pricing page redesign review', ['Sofía', 'Chen', 'Noah'], ['three tiers: Hobby, Team, Enterprise', 'annual plans get a 20% discount'], ['Sofía: final mockups by March 20']],
    ['Beta launch retrospective', ['Noah', 'Omar', 'Chen', 'Zoë'], ['keep the weekly release train', 'zero-downtime migration worked, document it'], []],
    ['Hiring loop calibration', ['Noah', 'Lukas'], ['replace the take-home with a paired programming session', 'two reviewers per candidate'], ['Alex: rewrite the rubric']],
    ['GA go/no-go', ['Noah', 'Omar', 'Fatima', 'Zoë'], ['go for June 1', 'Omar owns the rollback plan'], ['Zoë: launch-day dashboard']],
    ['Summer offsite agenda', ['everyone'], ['offsite in Lisbon, July 14-16', 'two days of workshops, one day hiking in Sintra'], ['Chen: book the venue']],
    ['Database upgrade to PostgreSQL 17', ['Omar', 'Alex'], ['cut over with logical replication', 'maintenance window Sunday 02:00 UTC'], ['Alex: rehearse on staging twice']],
    ['Security audit findings', ['Fatima', 'Omar', 'Alex'], ['an S3 bucket allowed public reads', 'base image shipped an old OpenSSL'], ['Fatima: re-test in October']],
    ['Budget 2027', ['Noah', 'Zoë'], ['cloud spend capped at $42k per month', 'two new hires in Q1'], ['Zoë: monthly spend report']],
    ['On-call rotation changes', ['Omar', 'Aiko', 'Alex'], ['follow-the-sun with the Tokyo team', 'at most one week on call per month'], ['Omar: update PagerDuty schedules']],
    ['Year in review', ['everyone'], ['GA shipped on time', 'p99 latency down 38%'], []],
  ] as const
).map(([title, attendees, decisions, actionItems], i) =>
  m(`meetingNotes2026-${String(i + 1).padStart(2, '0')}`, { title, date: `2026-${String(i + 1).padStart(2, '0')}-${10 + (i % 9)}`, attendees: [...attendees], decisions: [...decisions], actionItems: [...actionItems] }),
);

const snippets: LabelledMemory[] = (
  [
    ['debounce', 'TypeScript', 'Debounce a function call by N milliseconds', 'src/utils/debounce.ts', ['timing', 'ui'], 14],
    ['retry_with_backoff', 'TypeScript', 'Retry an async call with exponential backoff and jitter', 'src/net/retry.ts', ['network', 'resilience'], 32],
    ['sql_upsert', 'SQL', 'INSERT ... ON CONFLICT DO UPDATE for the accounts table', 'db/upsert_account.sql', ['postgres'], 9],
    ['jwt_verify', 'Python', 'Verify a JWT signature and expiry with PyJWT', 'app/auth/jwt.py', ['auth', 'security'], 21],
    ['docker_multistage', 'Dockerfile', 'Multi-stage build: compile in node:22, run in distroless', 'Dockerfile', ['containers'], 18],
    ['find_large_files', 'Bash', 'List the 20 biggest files under a directory', 'scripts/big.sh', ['disk'], 3],
    ['regex_email', 'JavaScript', 'Loose email address validation pattern', 'src/validate.js', ['regex', 'forms'], 2],
    ['dataclass_json', 'Python', 'Serialize nested dataclasses to JSON with asdict', 'app/models/serialize.py', ['json'], 12],
    ['use_fetch_hook', 'TypeScript', 'React hook that fetches a URL and tracks loading and error state', 'web/hooks/useFetch.ts', ['react', 'hooks'], 27],
    ['git_undo_commit', 'Bash', 'git reset --soft HEAD~1 keeps the changes staged', null, ['git'], 1],
    ['k8s_liveness_probe', 'YAML', 'Liveness and readiness probes for the API deployment', 'k8s/api.yaml', ['kubernetes', 'health'], 16],
    ['nginx_gzip', 'nginx', 'Enable gzip for JSON and JS responses', 'deploy/nginx.conf', ['compression', 'performance'], 7],
    ['csv_stream', 'Python', 'Stream a large CSV file row by row without loading it into memory', 'etl/stream_rows.py', ['etl', 'files'], 15],
    ['rust_error_enum', 'Rust', 'Error enum with thiserror and From conversions', 'cli/src/error.rs', ['errors'], 24],
    ['date_iso', 'TypeScript', 'Format a Date as ISO 8601 in UTC without milliseconds', 'src/utils/dates.ts', ['dates', 'time'], 4],
  ] as const
).map(([slug, language, description, file, tags, lines]) => m(`snippet.${slug}`, { language, description, file, tags: [...tags], lines }));

const bookmarks: LabelledMemory[] = (
  [
    ['use-the-index-luke', 'https://use-the-index-luke.com', 'Use The Index, Luke: SQL indexing and tuning', ['sql', 'performance'], true],
    ['jepsen-postgresql', 'https://jepsen.io/analyses/postgresql-12.3', 'Jepsen: PostgreSQL 12.3 analysis', ['consistency'], false],
    ['gcra', 'https://brandur.org/rate-limiting', 'Rate limiting, cells, and GCRA', ['algorithms'], true],
    ['stripe-idempotency', 'https://stripe.com/blog/idempotency', 'Designing robust and predictable APIs with idempotency', ['api', 'payments'], true],
    ['crafting-interpreters', 'https://craftinginterpreters.com', 'Crafting Interpreters', ['compilers', 'books'], false],
    ['tailwind-docs', 'https://tailwindcss.com/docs', 'Tailwind CSS documentation', ['css'], true],
    ['svelte-tutorial', 'https://svelte.dev/tutorial', 'Svelte interactive tutorial', ['svelte'], true],
    ['rust-book', 'https://doc.rust-lang.org/book', 'The Rust Programming Language', ['rust', 'books'], false],
    ['otel-js', 'https://opentelemetry.io/docs/languages/js', 'OpenTelemetry for JavaScript', ['tracing', 'observability'], false],
    ['sre-book', 'https://sre.google/sre-book/table-of-contents', 'Site Reliability Engineering (Google)', ['sre', 'books'], true],
  ] as const
).map(([slug, url, title, tags, read]) => m(`bookmark/${slug}`, { url, title, tags: [...tags], read }));

const conversations: LabelledMemory[] = (
  [
    ['2026-03-02-memory-leak', 'debugging a memory leak in the Node worker', 'heap snapshots showed a listener added per request on a shared EventEmitter; fixed by removing it in finally', 'add a test for the listener count'],
    ['2026-03-09-slow-query', 'slow dashboard query', 'missing composite index on (account_id, created_at); EXPLAIN ANALYZE went from 2.3 s to 14 ms', null],
    ['2026-03-15-career', 'staff engineer promotion', 'need a written strategy doc and evidence of mentoring; talk to Noah in April', 'draft the strategy doc'],
    ['2026-03-21-generics', 'typing a generic event bus in TypeScript', 'a mapped type from event name to payload type; no any', null],
    ['2026-03-28-flaky-tests', 'flaky integration tests', 'the suites shared one Redis database; give each worker its own key prefix', 'move Redis setup into a fixture'],
    ['2026-04-03-vacation', 'planning two weeks in Japan', 'Tokyo, Kyoto and Hiroshima with a JR rail pass; dinner with Aiko in Tokyo', 'book ryokan in Kyoto'],
    ['2026-04-11-cluster-costs', 'cutting Kubernetes cluster costs', 'right-size resource requests and put batch jobs on spot nodes', null],
    ['2026-04-19-borrow-checker', 'borrow checker errors in the CLI parser', 'return owned Strings from the tokenizer instead of slices', null],
    ['2026-04-26-accessibility', 'pricing page accessibility', 'button contrast ratio below 4.5:1; add visible focus rings', 'ask Sofía for new colours'],
    ['2026-05-02-overload', 'feeling overloaded', 'block mornings for deep work and decline optional meetings', 'try it for two weeks'],
  ] as const
).map(([slug, topic, summary, followUp]) => m(`conv/${slug}`, { topic, summary, followUp }));

const worklog: LabelledMemory[] = (
  [
    ['10', ['merged the queue consumer', 'paired with Chen on the invoice PDF'], null],
    ['11', ['load-tested the consumer at 2k msg/s'], 'waiting on Omar for a bigger staging database'],
    ['12', ['wrote the idempotency key table migration'], null],
    ['13', ['reviewed 4 PRs', 'interviewed a candidate'], null],
    ['14', ['demo of the new billing pipeline'], 'Stripe sandbox rate limits'],
  ] as const
).map(([day, done, blocked]) => m(`worklog/2026-03-${day}`, { done: [...done], blocked }));

export const ALEX: UserSet = {
  userId: 'alex_dev',
  memories: [
    m('user_preferences', { theme: 'dark', editor: 'Neovim', font: 'JetBrains Mono', fontSize: 14, useTabs: false, indentWidth: 2, locale: 'en-GB', notifications: { email: false, slack: true } }),
    m('coding_preferences', { language: 'TypeScript', style: 'functional', testing: 'vitest', documented: true, lint: 'eslint + prettier', maxLineLength: 100 }),
    m('backend_stack', { framework: 'FastAPI', runtime: 'Python 3.12', database: 'PostgreSQL 16', cache: 'Redis 7', tasks: 'Celery', hosting: 'Fly.io' }),
    m('frontend_stack', { framework: 'SvelteKit', styling: 'Tailwind CSS', bundler: 'Vite', icons: 'lucide', state: 'svelte stores' }),
    m('mobile_stack', { framework: 'React Native', navigation: 'expo-router', builds: 'EAS', minIOS: '16.0', minAndroidSdk: 26 }),
    m('project/alpha/notes', { summary: 'Billing service: move invoice generation from a nightly cron to an event-driven queue', status: 'in progress', blockers: ['webhook retries are not idempotent yet'], repo: 'github.com/acme/billing' }),
    m('project/alpha/milestones', [{ name: 'beta launch', due: '2026-04-15', done: true }, { name: 'general availability', due: '2026-06-01', done: false }]),
    m('project/alpha/architecture', { producer: 'Stripe webhooks', broker: 'RabbitMQ', consumers: 3, deadLetterQueue: true, idempotency: 'event id stored in Postgres with a unique index' }),
    m('project/beta/notes', { summary: 'Internal search over support tickets with Postgres full-text search', status: 'paused', reason: 'waiting for a data retention policy from legal' }),
    m('project/gamma/notes', { summary: 'Rewrite of the CLI in Rust for faster startup', status: 'prototype', startupMs: { node: 180, rust: 9 } }),
    m('project/gamma/decisions', [{ date: '2026-02-10', decision: 'clap for argument parsing' }, { date: '2026-02-24', decision: 'ship static musl binaries' }]),
    ...contacts,
    ...meetings,
    m('todo/today', [{ task: 'review PR #482 (rate limiter)', done: false }, { task: 'renew the TLS certificate for api.acme.dev', done: true }, { task: 'reply to Elena about the staff role', done: false }]),
    m('todo/this_week', [{ task: 'write the queue design doc', done: false }, { task: 'upgrade Node to 22 in CI', done: false }, { task: 'prepare slides for the meetup', done: true }]),
    m('todo/someday', ['learn Zig', 'contribute a fix to Vite', 'write a blog post about idempotency']),
    m('todo/errands', [{ task: 'buy a birthday gift for Sam', due: '2026-03-20' }, { task: 'dentist appointment', due: 'Thursday 9:00' }, { task: 'pick up dry cleaning', due: null }]),
    ...snippets,
    ...bookmarks,
    m('env/staging', { region: 'eu-central-1', replicas: 2, instanceType: 't3.medium', autoscale: false, url: 'https://staging.acme.dev' }),
    m('env/production', { region: 'us-east-1', replicas: 6, instanceType: 'c6i.xlarge', autoscale: true, url: 'https://api.acme.dev' }),
    ...conversations,
    ...worklog,
    m('workstation', { laptop: 'ThinkPad X1 Carbon Gen 12', os: 'Fedora 41', ramGb: 32, monitor: 'Dell U2723QE 27"', keyboard: 'Keychron Q1, brown switches' }),
    m('shell_aliases', { gs: 'git status', k: 'kubectl', dc: 'docker compose', ll: 'ls -lah', tf: 'terraform' }),
    m('git_config', { defaultBranch: 'main', signCommits: true, pullRebase: true, editor: 'nvim' }),
    m('oncall_schedule', { rotation: 'weekly', nextShift: '2026-03-16', tool: 'PagerDuty', backup: 'Omar Haddad' }),
    m('incident/2026-01-14', { severity: 'SEV1', service: 'payments', cause: 'expired database credentials', durationMinutes: 47, customerImpact: true }),
    m('incident/2026-05-03', { severity: 'SEV3', service: 'search', cause: 'Elasticsearch disk full', durationMinutes: 12, customerImpact: false }),
    m('incident/2026-09-21', { severity: 'SEV2', service: 'api', cause: 'bad deploy: a missing environment variable', durationMinutes: 23, customerImpact: true }),
    m('learning_goals', { now: ['Rust async', 'distributed tracing'], later: ['Zig', 'TLA+ for formal specs'] }),
    m('reading_list', [{ title: 'Designing Data-Intensive Applications', author: 'Martin Kleppmann', status: 'reading' }, { title: 'A Philosophy of Software Design', author: 'John Ousterhout', status: 'done' }, { title: "The Staff Engineer's Path", author: 'Tanya Reilly', status: 'next' }]),
    m('secrets_inventory', { stripe: 'restricted key, rotated quarterly, kept in Vault', sentry: 'DSN in 1Password', github: 'fine-grained token, expires 2026-06-30' }),
    m('team/members', ['Noah (CTO)', 'Omar (SRE)', 'Chen (frontend)', 'Fatima (security)', 'Zoë (data)']),
    m('team/rituals', { standup: '09:30 daily, async on Fridays', retro: 'every other Thursday', demo: 'last Friday of the month' }),
    m('coffee_order', { drink: 'flat white', milk: 'oat', size: 'small', favoriteCafé: 'Café Grumpy' }),
    m('travel/kubecon-2026', { city: 'Amsterdam', dates: '2026-03-23/2026-03-26', hotel: 'Hotel V Nesplein', flight: 'KL 602 from SFO', speaking: false }),
    m('dependencies/pinned', { react: '18.3.1 (19 breaks the date picker)', prisma: '5.22', node: '20.19 LTS' }),
    m('release_checklist', ['bump the version', 'update CHANGELOG.md', 'tag and push', 'publish to npm with provenance', 'announce in #releases']),
    m('dotfiles', { repo: 'github.com/alexdev/dotfiles', manager: 'chezmoi', shell: 'zsh', prompt: 'starship' }),
    m('podcasts', ['Software Engineering Daily', 'The Changelog', 'Oxide and Friends']),
    m('interview/candidates', [{ name: 'R. Silva', stage: 'onsite', feedback: 'strong on systems design' }, { name: 'K. Obi', stage: 'phone screen', feedback: null }]),
    m('gym_schedule', { days: ['Mon', 'Wed', 'Sat'], time: '07:00', focus: 'strength' }),
    m('compensation_notes', { baseUsd: 185000, equity: '0.1%', reviewCycle: 'January' }),
    m('working_hours', { timezone: 'America/Los_Angeles', hours: '09:00-17:30', noMeetingsBefore: '10:00' }),
    m('pets', { name: 'Biscuit', species: 'dog', breed: 'corgi', vet: 'Dr. Alvarez', vaccinesDue: '2026-07' }),
  ],
  queries: [
    { q: 'Jane phone number', relevant: ['contact.jane'], sharesWord: true },
    { q: 'Lukas Muller', relevant: ['contact.lukas'], sharesWord: true, note: 'diacritics folded: Müller' },
    { q: 'who is the security engineer', relevant: ['contact.fatima'], sharesWord: true },
    { q: 'who can fix the leaking faucet at home', relevant: ['contact.tom'], sharesWord: false },
    { q: 'who is my boss', relevant: ['contact.noah'], sharesWord: false },
    { q: 'postgres upgrade meeting', relevant: ['meetingNotes2026-08'], sharesWord: true, note: 'postgres vs PostgreSQL: a prefix, not a word' },
    { q: 'what did we decide about the annual discount', relevant: ['meetingNotes2026-03'], sharesWord: true },
    { q: 'ceiling on infrastructure costs next year', relevant: ['meetingNotes2026-10'], sharesWord: false },
    { q: 'interview process changes', relevant: ['meetingNotes2026-05'], sharesWord: false },
    { q: 'what caused the payments outage', relevant: ['incident/2026-01-14', 'meetingNotes2026-02'], sharesWord: true },
    { q: 'TLS certificate renewal', relevant: ['todo/today'], sharesWord: true },
    { q: 'present for a friend', relevant: ['todo/errands'], sharesWord: false },
    { q: 'exponential backoff', relevant: ['snippet.retry_with_backoff'], sharesWord: true },
    { q: 'debounc*', relevant: ['snippet.debounce'], sharesWord: true, note: 'prefix query' },
    { q: 'shrink HTTP payloads', relevant: ['snippet.nginx_gzip'], sharesWord: false },
    { q: 'read a huge spreadsheet export piece by piece', relevant: ['snippet.csv_stream'], sharesWord: false },
    { q: 'Stripe idempotency blog', relevant: ['bookmark/stripe-idempotency'], sharesWord: true },
    { q: 'guide to making database lookups faster', relevant: ['bookmark/use-the-index-luke'], sharesWord: false },
    { q: 'how many replicas in production', relevant: ['env/production'], sharesWord: true },
    { q: 'which data center hosts the live site', relevant: ['env/production'], sharesWord: false },
    { q: 'memory leak', relevant: ['conv/2026-03-02-memory-leak'], sharesWord: true },
    { q: 'why were the CI checks randomly failing', relevant: ['conv/2026-03-28-flaky-tests'], sharesWord: false },
    { q: 'which web toolkit powers our server side', relevant: ['backend_stack'], sharesWord: false },
    { q: 'what editor do I use', relevant: ['user_preferences', 'git_config'], sharesWord: true },
    { q: 'how much RAM does my laptop have', relevant: ['workstation'], sharesWord: true, note: 'camelCase field ramGb' },
    { q: 'usual caffeine beverage', relevant: ['coffee_order'], sharesWord: false },
    { q: 'when is the GA launch', relevant: ['meetingNotes2026-06', 'project/alpha/milestones'], sharesWord: true, note: 'a two-letter word; "general availability" spelled out in one of the answers' },
    { q: 'PR 482', relevant: ['todo/today'], sharesWord: true, note: 'numbers as words' },
    { q: 'node 22 upgrade', relevant: ['todo/this_week'], sharesWord: true },
    { q: 'react 19', relevant: ['dependencies/pinned'], sharesWord: true },
    { q: 'who did I meet at KubeCon', relevant: ['contact.jane'], sharesWord: true, note: 'met/meet: irregular verb; the trip to KubeCon is the distractor' },
    { q: 'on-call schedule', relevant: ['oncall_schedule'], sharesWord: true, note: 'on-call (query) vs oncall (key)' },
  ],
};
