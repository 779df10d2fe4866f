// Relevance set, user 2 of 3: a product manager in Munich (German text, contacts, family, travel, recipes, product work).
import { m, type LabelledMemory, type UserSet } from './types.js';

const contacts: LabelledMemory[] = (
  [
    ['mueller', 'Thomas Müller', 'Steuerberater (tax advisor), Kanzlei Müller & Partner', 'München', '+49 89 5550 1234', 'Steuererklärung bis 31. Juli abgeben'],
    ['anna', 'Anna Schmidt', 'sister', 'Hamburg', '+49 40 5550 8812', 'birthday on 12 May; two cats'],
    ['oma', 'Gertrud Schmidt', 'grandmother', 'Augsburg', '+49 821 555 0301', 'landline only, likes calls on Sunday afternoons'],
    ['keller', 'Dr. Sabine Keller', 'Zahnärztin (dentist)', 'München', '+49 89 5550 4477', 'Praxis am Viktualienmarkt; check-up every 6 months'],
    ['jose', 'José García', 'partnerships, Cabify', 'Madrid', '+34 91 555 0233', 'met at the Mobility Summit; talks about e-scooter regulation'],
    ['francois', 'François Dubois', 'UX researcher', 'Lyon', '+33 4 5550 1190', 'runs usability sessions in French'],
    ['oezdemir', 'Ayşe Özdemir', "Lena's class teacher (4b)", 'München', null, 'parent evenings twice a year; prefers email'],
    ['babysitter', 'Clara Weiß', 'babysitter', 'München', '+49 176 5550 9090', 'available Tuesday and Thursday evenings, 15 EUR per hour'],
    ['huber_plumbing', 'Huber Sanitär GmbH', 'plumber', 'München', '+49 89 5550 0000', 'Notdienst 24/7'],
    ['jonas_brandt', 'Jonas Brandt', 'CEO, Velo Mobility', 'München', '+49 151 5550 1111', 'weekly product sync on Wednesdays'],
    ['mia', 'Mia Novak', 'product designer, Velo Mobility', 'Vienna', '+43 1 5550 2323', 'owns the rider app design'],
    ['felix', 'Felix Wagner', 'engineering lead, Velo Mobility', 'München', '+49 160 5550 4545', 'my 1:1 every other Monday'],
    ['sarah', 'Sarah Lindqvist', 'investor, Northzone', 'Stockholm', '+46 8 5550 7000', 'board observer; wants monthly metrics'],
    ['autohaus', 'Autohaus Schwabing', 'car service', 'München', '+49 89 5550 3131', 'VW partner, winter tyres stored there'],
    ['yilmaz', 'Dr. Emre Yilmaz', 'Kinderarzt (pediatrician)', 'München', '+49 89 5550 6868', 'U-Untersuchung for Lena due in autumn'],
    ['julia', 'Julia Becker', 'best friend', 'München', '+49 172 5550 1212', 'loves Italian food; allergic to shellfish'],
  ] as const
).map(([slug, name, role, city, phone, notes]) => m(`contact.${slug}`, { name, role, city, phone, notes }));

const restaurants: LabelledMemory[] = (
  [
    ['cafe_luitpold', 'Café Luitpold', 'Kaffeehaus', 4.5, 'best Apfelstrudel in town, Sunday brunch'],
    ['tantris', 'Tantris', 'fine dining', 4.9, 'our anniversary place; book 6 weeks ahead'],
    ['schneider_brauhaus', 'Schneider Bräuhaus', 'Bavarian', 4.2, 'Weißwurst before noon, kids welcome'],
    ['sushi_ya', 'Sushi Ya', 'Japanese', 4.4, 'omakase on Fridays'],
    ['la_bodega', 'La Bodega', 'Spanish tapas', 4.1, 'José recommended the patatas bravas'],
    ['vegan_kitchen', 'Kopps', 'vegan', 4.0, 'good for team lunches'],
    ['da_enzo', 'Pizzeria da Enzo', 'Italian', 4.3, 'the kids love it; Julia too'],
    ['teehaus', 'Teehaus im Englischen Garten', 'tea house', 4.6, 'quiet, open until 18:00'],
  ] as const
).map(([slug, name, cuisine, rating, notes]) => m(`restaurant.${slug}`, { name, cuisine, city: 'München', rating, notes, visited: true }));

const recipes: LabelledMemory[] = (
  [
    ['kaesespaetzle', 'Käsespätzle', ['Spätzle', 'Bergkäse', 'Zwiebeln', 'Butter'], 40, true],
    ['gazpacho', 'Gazpacho', ['tomatoes', 'cucumber', 'red pepper', 'garlic', 'olive oil', 'sherry vinegar'], 20, true],
    ['banana_bread', 'Banana bread', ['3 ripe bananas', 'flour', 'brown sugar', 'walnuts'], 70, true],
    ['linsensuppe', 'Linsensuppe', ['Tellerlinsen', 'Karotten', 'Sellerie', 'Wiener Würstchen'], 50, false],
    ['shakshuka', 'Shakshuka', ['eggs', 'tomatoes', 'paprika', 'cumin', 'feta'], 30, true],
    ['apfelkuchen', 'Apfelkuchen', ['Äpfel', 'Mürbeteig', 'Zimt', 'Mandeln'], 90, true],
    ['pad_thai', 'Pad Thai', ['rice noodles', 'prawns', 'tamarind', 'peanuts', 'lime'], 35, false],
    ['overnight_oats', 'Overnight oats', ['oats', 'yoghurt', 'berries', 'chia seeds'], 5, true],
  ] as const
).map(([slug, name, ingredients, minutes, vegetarian]) => m(`recipe.${slug}`, { name, ingredients: [...ingredients], minutes, vegetarian, servings: 4 }));

const feedback: LabelledMemory[] = (
  [
    ['2026-03-04', 'rider app', 'battery range shown in the app is wrong by up to 30%', 'high', 23],
    ['2026-03-11', 'fleet portal', 'invoices cannot be exported as CSV for accounting', 'medium', 9],
    ['2026-03-18', 'rider app', 'parking zones are hard to see at night', 'medium', 14],
    ['2026-03-25', 'fleet portal', 'no way to give a colleague read-only access', 'high', 11],
    ['2026-04-01', 'rider app', 'Apple Pay fails for some German banks', 'high', 31],
    ['2026-04-08', 'support', 'refunds take two weeks', 'low', 6],
  ] as const
).map(([date, area, issue, priority, reports]) => m(`product/feedback/${date}`, { area, issue, priority, reports }));

const oneOnOnes: LabelledMemory[] = (
  [
    ['felix-2026-03-02', ['platform team understaffed', 'wants to hire a second Android developer'], ['Maria: make the headcount case to Jonas']],
    ['felix-2026-03-16', ['release freeze before the Lisbon conference', 'tech debt sprint in April'], []],
    ['mia-2026-03-05', ['design system v2 is 70% done', 'needs user research budget'], ['Maria: ask François for a quote']],
    ['jonas-2026-03-11', ['board meeting prep', 'Series B timing: autumn'], ['Maria: metrics deck by March 25']],
    ['jonas-2026-04-08', ['expansion to Vienna approved', 'pricing review in May'], []],
  ] as const
).map(([slug, notes, actions]) => m(`one_on_one/${slug}`, { notes: [...notes], actions: [...actions] }));

const conversations: LabelledMemory[] = (
  [
    ['2026-02-20-prd-group-rides', 'outline for the group rides PRD', 'one booker pays for up to 5 scooters; split payment later'],
    ['2026-02-27-roadmap-prioritisation', 'RICE scoring of the Q2 candidates', 'fleet self-serve wins; group rides second'],
    ['2026-03-06-hiring-pm', 'job ad for a junior product manager', 'emphasise discovery work and SQL basics'],
    ['2026-03-13-kids-screen-time', 'screen time rules for Jonas', '1 hour on school days, more at weekends if homework is done'],
    ['2026-03-20-presentation', 'keynote for the Lisbon conference', 'story: from 3 scooters in a garage to 18k weekly riders'],
    ['2026-03-27-negotiation', 'salary negotiation practice', 'anchor at 115k EUR; mention the Vienna expansion scope'],
    ['2026-04-03-spanish', 'Spanish conversation practice', 'ordering food, talking about work; confused ser and estar'],
    ['2026-04-10-garden', 'balcony garden', 'tomatoes and basil in April, herbs need 6 hours of sun'],
  ] as const
).map(([slug, topic, summary]) => m(`conv/${slug}`, { topic, summary }));

export const MARIA: UserSet = {
  userId: 'maria.schmidt',
  memories: [
    m('user_preferences', { language: 'de-DE', timezone: 'Europe/Berlin', units: 'metric', dateFormat: 'DD.MM.YYYY', replyStyle: 'short and direct', newsletter: false }),
    ...contacts,
    m('travel/lisbon-2026-05', { purpose: 'product conference, keynote speaker', flight: 'LH 1792 MUC-LIS, 12 May 07:10', hotel: 'Memmo Alfama', nights: 3, budgetEur: 1400, reimbursed: true }),
    m('travel/kyoto-2026-10', { purpose: 'family holiday', flight: 'via Helsinki, Finnair', hotel: 'ryokan near Gion', nights: 9, budgetEur: 7800, travellers: 4 }),
    m('travel/berlin-2026-02', { purpose: 'board meeting', train: 'ICE 1002, 4h', hotel: 'Motel One Alexanderplatz', nights: 1, budgetEur: 320 }),
    m('travel/zurich-offsite', { purpose: 'leadership offsite', train: 'EC 196', dates: '2026-06-04/2026-06-05', budgetEur: 650 }),
    m('travel/mallorca-summer', { purpose: 'beach week with the kids', flight: 'Eurowings MUC-PMI', apartment: 'Cala Ratjada', nights: 7, budgetEur: 3100 }),
    m('travel/paris-2026-06', { purpose: 'visit François, usability study', train: 'TGV from Stuttgart', nights: 2, budgetEur: 540 }),
    ...restaurants,
    ...recipes,
    m('family/birthdays', { Lena: '2016-07-02', Jonas: '2013-11-19', 'Oma Gertrud': '1941-03-08', Anna: '1985-05-12', Markus: '1982-09-30' }),
    m('family/kids', { Lena: { age: 9, class: '4b', hobbies: ['swimming', 'drawing'] }, Jonas: { age: 12, school: 'Gymnasium', hobbies: ['football', 'chess'] } }),
    m('family/anniversary', { date: '2014-06-21', idea: 'dinner at Tantris, then a night in the Bayerischer Hof' }),
    m('school/lena', { school: 'Grundschule an der Haimhauser Straße', class: '4b', teacher: 'Frau Özdemir', pickup: '15:30', swimmingClass: 'Thursdays' }),
    m('school/jonas', { school: 'Oskar-von-Miller-Gymnasium', grade: 7, weakSubject: 'Latin', tutor: 'Wednesdays 17:00' }),
    m('health/allergies', { penicillin: true, birchPollen: true, peanuts: false, note: 'carry antihistamines in spring' }),
    m('health/vaccinations', { tetanus: '2021', tickBorneEncephalitis: '2025, booster due 2028', flu: 'every October' }),
    m('health/running', { weeklyKm: 25, goal: 'Halbmarathon unter 2 Stunden', race: 'München Halbmarathon, 11 October' }),
    m('product/okrs/2026-Q1', { objective: 'Make fleet booking self-serve', keyResults: ['70% of new fleets onboard without sales', 'time to first ride under 1 day'], score: 0.6 }),
    m('product/okrs/2026-Q2', { objective: 'Grow riders in Vienna and Munich', keyResults: ['25k weekly active riders', 'NPS above 45', 'churn below 4%'], score: null }),
    m('product/roadmap', { now: ['fleet self-serve', 'Apple Pay fix'], next: ['group rides', 'read-only fleet roles'], later: ['cargo bikes', 'corporate mobility budget'] }),
    m('product/personas/fleet-manager', { name: 'Petra', company: 'mid-size logistics firm', needs: ['monthly invoices', 'cost per employee'], frustration: 'manual exports' }),
    m('product/personas/commuter', { name: 'Deniz', age: 29, commute: '4 km to the office', needs: ['reliable availability at 8:00'], frustration: 'empty batteries' }),
    ...feedback,
    m('product/metrics', { weeklyActiveRiders: 18400, churnRate: 0.043, nps: 41, avgRideMinutes: 11.5, asOf: '2026-03-31' }),
    m('product/competitors', { Tier: 'biggest fleet in Germany', Lime: 'strong brand, higher prices', Bolt: 'cheapest per minute' }),
    m('product/pricing', { perMinuteEur: 0.25, unlockEur: 1, monthlyPassEur: 29, studentDiscount: 0.2 }),
    m('product/experiments/onboarding-v2', { variant: 'progressive profile instead of a 6-field form', metric: 'activation rate', uplift: 0.07, significant: true, users: 12000 }),
    m('product/experiments/pricing-badge', { variant: 'show price per ride, not per minute', metric: 'conversion', uplift: -0.01, significant: false, users: 8000 }),
    m('product/prd/group-rides', { problem: 'friends ride together but pay separately', scope: ['one booker', 'up to 5 scooters'], status: 'draft v3' }),
    ...oneOnOnes,
    ...conversations,
    m('books/2026', [{ title: 'Inspired', author: 'Marty Cagan', rating: 5 }, { title: 'Die Mittagsfrau', author: 'Julia Franck', rating: 4 }, { title: 'Cien años de soledad', author: 'Gabriel García Márquez', rating: 5 }]),
    m('subscriptions', { netflix: 13.99, spotifyFamily: 17.99, zeitDigital: 5.99, urbanSportsClub: 69, currency: 'EUR' }),
    m('car', { model: 'VW ID.3', plate: 'M-MS 2024', nextInspection: '2026-08', chargingCard: 'EnBW mobility+', winterTyres: 'at Autohaus Schwabing' }),
    m('home/utilities', { electricity: 'Polarstern', gas: 'SWM', internet: 'M-net 250 Mbit/s', contract: 'renews every January' }),
    m('home/cleaning', { who: 'Frau Kovač', when: 'Fridays 9-12', rateEur: 18 }),
    m('home/wifi', { network: 'Schmidt-5G', guestNetwork: 'Schmidt-Gast', router: 'FRITZ!Box 7590' }),
    m('finances/budget', { rentEur: 2150, groceriesEur: 900, savingsRate: 0.18, emergencyFundMonths: 6 }),
    m('finances/taxes', { advisor: 'Thomas Müller', deadline: '2026-07-31', documents: ['Lohnsteuerbescheinigung', 'Kita-Belege', 'Spendenquittungen'] }),
    m('spanish/vocab', [{ es: 'la cuenta, por favor', de: 'die Rechnung, bitte' }, { es: 'aprovechar', de: 'nutzen' }, { es: 'la reunión', de: 'das Meeting' }]),
    m('spanish/progress', { level: 'A2', app: 'Babbel', streakDays: 64, teacher: 'online with Lucía on Saturdays' }),
    m('gifts/ideas', { Lena: ['watercolour set', 'swimming goggles'], Jonas: ['chess clock', 'FC Bayern shirt'], Julia: ['Italian cookbook'] }),
    m('wishlist', ['Kindle Paperwhite', 'Ortlieb bike bags', 'a weekend in Vienna without laptops']),
    m('team/velo', { pm: ['Maria', 'Tobias'], design: ['Mia'], engineering: ['Felix', '8 engineers'], data: ['Lars'] }),
    m('rituals/weekly_review', { day: 'Friday 16:00', steps: ['inbox zero', 'review roadmap', 'plan next week'], durationMinutes: 45 }),
    m('bike', { model: 'VanMoof S3', frameNumber: 'VM-33019', insurance: 'ADAC Fahrradversicherung', lastService: '2025-11' }),
    m('documents/passports', { Maria: 'expires 2029-04', Lena: 'Kinderreisepass expires 2026-09', Jonas: 'expires 2031-01' }),
    m('insurance', { health: 'TK', liability: 'HUK24', household: 'Allianz', legal: null }),
    m('product/launches/vienna', { date: '2026-05-04', fleetSize: 600, partners: ['Wiener Linien'], permitGranted: true }),
    m('meal_plan/this_week', { Montag: 'Linsensuppe', Dienstag: 'Pasta mit Pesto', Mittwoch: 'Shakshuka', Donnerstag: 'Reste', Freitag: 'Pizza bei da Enzo' }),
    m('holidays/school_2026', { Osterferien: '30.03.-10.04.', Pfingstferien: '26.05.-05.06.', Sommerferien: '03.08.-14.09.' }),
    m('habits/tracker', { meditationDays: 12, averageSteps: 8200, bedtime: '22:45', screenFreeEvenings: 3 }),
    m('podcasts', ["Lenny's Podcast", 'Lage der Nation', 'Hotel Matcha']),
    m('volunteering', { organisation: 'Tafel München', shift: 'first Saturday of the month', role: 'sorting donations' }),
  ],
  queries: [
    { q: 'Steuerberater', relevant: ['contact.mueller'], sharesWord: true },
    { q: 'tax advisor phone', relevant: ['contact.mueller'], sharesWord: true },
    { q: 'who can watch the children at night', relevant: ['contact.babysitter'], sharesWord: false },
    { q: 'cafe with apple strudel', relevant: ['restaurant.cafe_luitpold'], sharesWord: true, note: 'Café folded to cafe' },
    { q: 'Käsespätzle recipe', relevant: ['recipe.kaesespaetzle'], sharesWord: true, note: 'diacritics in the query' },
    { q: 'cold tomato soup', relevant: ['recipe.gazpacho'], sharesWord: true, note: 'tomato matches tomatoes only by stemming' },
    { q: 'flight to Lisbon', relevant: ['travel/lisbon-2026-05'], sharesWord: true },
    { q: 'where are we staying in Portugal', relevant: ['travel/lisbon-2026-05'], sharesWord: false },
    { q: 'weekly active riders', relevant: ['product/metrics'], sharesWord: true, note: 'camelCase field weeklyActiveRiders' },
    { q: 'how many people use the app every week', relevant: ['product/metrics'], sharesWord: false },
    { q: 'Q2 OKRs', relevant: ['product/okrs/2026-Q2'], sharesWord: true },
    { q: 'what are our goals for spring', relevant: ['product/okrs/2026-Q2'], sharesWord: false },
    { q: 'grandmother landline', relevant: ['contact.oma'], sharesWord: true },
    { q: 'when is the car inspection due', relevant: ['car'], sharesWord: true },
    { q: 'who supplies power to the flat', relevant: ['home/utilities'], sharesWord: false },
    { q: 'penicillin allergy', relevant: ['health/allergies'], sharesWord: true },
    { q: "Lena's teacher", relevant: ['contact.oezdemir', 'school/lena'], sharesWord: true, note: 'possessive apostrophe' },
    { q: 'did the new signup flow win the A/B test', relevant: ['product/experiments/onboarding-v2'], sharesWord: false },
    { q: '"battery range"', relevant: ['product/feedback/2026-03-04'], sharesWord: true, note: 'quoted phrase' },
    { q: 'invoices CSV export', relevant: ['product/feedback/2026-03-11'], sharesWord: true },
    { q: "Oma's birthday", relevant: ['family/birthdays'], sharesWord: true, note: 'a field name ("Oma Gertrud") answers' },
    { q: 'Steuererklärung', relevant: ['contact.mueller'], sharesWord: true },
    { q: 'Osterferien', relevant: ['holidays/school_2026'], sharesWord: true, note: 'a German field name' },
    { q: 'e-scooter regulation', relevant: ['contact.jose'], sharesWord: true },
    { q: 'Apple Pay', relevant: ['product/feedback/2026-04-01', 'product/roadmap'], sharesWord: true },
    { q: 'winter tyres', relevant: ['car', 'contact.autohaus'], sharesWord: true, note: 'camelCase field winterTyres in one answer' },
  ],
};
