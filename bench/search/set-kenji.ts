// Relevance set, user 3 of 3: an ML PhD student in Zürich (experiment logs with numbers, papers, running, piano, Japanese and French text).
import { m, type LabelledMemory, type UserSet } from './types.js';

const experiments: LabelledMemory[] = (
  [
    ['ResNet-50', 'CIFAR-100', 0.1, 128, 200, 'top1', 0.781, 14, 'done', 'baseline with SGD and cosine schedule'],
    ['ResNet-50', 'CIFAR-100', 0.1, 128, 200, 'top1', 0.794, 14, 'done', 'cutout augmentation adds 1.3 points'],
    ['ViT-S/16', 'ImageNet-1k', 0.001, 1024, 300, 'top1', 0.798, 410, 'done', 'needed AdamW and 10k warmup steps'],
    ['ViT-S/16', 'ImageNet-1k', 0.001, 1024, 300, 'top1', 0.806, 415, 'done', 'mixup 0.8 on top of the previous recipe'],
    ['ViT-S/16', 'ImageNet-1k', 0.001, 1024, 300, 'top1', 0.815, 460, 'done', 'distilled from a ViT-B teacher'],
    ['Llama-3-8B', 'arXiv abstracts', 0.0002, 16, 3, 'perplexity', 6.2, 22, 'done', 'LoRA rank 16 on attention projections'],
    ['Llama-3-8B', 'arXiv abstracts', 0.0002, 16, 3, 'perplexity', 5.9, 25, 'done', 'LoRA rank 64, also on the MLP layers'],
    ['Llama-3-8B', 'arXiv abstracts', 0.002, 16, 3, 'perplexity', null, 3, 'diverged', 'loss became NaN after 2k steps: learning rate too high, fp16 overflow'],
    ['Llama-3-8B', 'arXiv abstracts', 0.0002, 16, 3, 'perplexity', 5.8, 24, 'done', 'same as exp-037 in bf16: stable'],
    ['ResNet-18', 'STL-10', 0.3, 512, 500, 'linear probe accuracy', 0.842, 60, 'done', 'SimCLR-style contrastive pretraining, temperature 0.2'],
    ['ResNet-18', 'STL-10', 0.3, 512, 500, 'linear probe accuracy', 0.851, 62, 'done', 'stronger colour jitter'],
    ['U-Net', 'CelebA-HQ 64px', 0.0001, 64, 100, 'FID', 12.4, 120, 'done', 'DDPM with 1000 steps'],
    ['U-Net', 'CelebA-HQ 64px', 0.0001, 64, 100, 'FID', 9.7, 130, 'done', 'cosine noise schedule'],
    ['U-Net', 'CelebA-HQ 64px', 0.0001, 64, 100, 'FID', null, 40, 'running', 'classifier-free guidance, scale 3'],
    ['BERT-base', 'SST-2', 0.00002, 32, 3, 'accuracy', 0.927, 2, 'done', 'sanity check for the new data loader'],
    ['BERT-base', 'SST-2', 0.00002, 32, 3, 'accuracy', 0.931, 2, 'done', 'seed 2 of 5 for the variance estimate'],
    ['CLIP ViT-B/32', 'Flickr30k', 0.00001, 256, 10, 'recall@1', 0.612, 35, 'done', 'zero-shot retrieval before fine-tuning'],
    ['CLIP ViT-B/32', 'Flickr30k', 0.00001, 256, 10, 'recall@1', 0.703, 38, 'done', 'fine-tuned with hard negatives'],
    ['GPT-2 small', 'TinyStories', 0.0006, 64, 1, 'perplexity', 3.1, 9, 'done', 'FlashAttention 2: 2.4x faster per step'],
    ['GPT-2 small', 'TinyStories', 0.0006, 64, 1, 'perplexity', null, 1, 'queued', 'waiting for an A100 slot'],
  ] as const
).map(([model, dataset, lr, batchSize, epochs, metric, value, gpuHours, status, notes], i) =>
  m(`experiments/exp-0${31 + i}`, { model, dataset, lr, batchSize, epochs, metric, value, gpuHours, status, notes }),
);

const papers: LabelledMemory[] = (
  [
    ['vaswani-2017', 'Attention Is All You Need', 'Vaswani et al.', 2017, 'NeurIPS', 'self-attention alone, no recurrence, beats RNN encoders on translation'],
    ['he-2016', 'Deep Residual Learning for Image Recognition', 'He et al.', 2016, 'CVPR', 'identity shortcuts let 152-layer networks train'],
    ['chen-2020', 'A Simple Framework for Contrastive Learning of Visual Representations', 'Chen et al.', 2020, 'ICML', 'augmentations and a projection head matter most'],
    ['hu-2021', 'LoRA: Low-Rank Adaptation of Large Language Models', 'Hu et al.', 2021, 'ICLR', 'train rank-r updates, freeze the weights'],
    ['dosovitskiy-2021', 'An Image is Worth 16x16 Words', 'Dosovitskiy et al.', 2021, 'ICLR', 'patches as tokens; needs big data or strong augmentation'],
    ['kaplan-2020', 'Scaling Laws for Neural Language Models', 'Kaplan et al.', 2020, 'arXiv', 'loss falls as a power law in parameters, data and compute'],
    ['hinton-2015', 'Distilling the Knowledge in a Neural Network', 'Hinton, Vinyals, Dean', 2015, 'NIPS workshop', 'soft targets at high temperature carry dark knowledge'],
    ['dao-2022', 'FlashAttention', 'Dao et al.', 2022, 'NeurIPS', 'IO-aware tiling makes exact attention fast and memory-light'],
    ['ho-2020', 'Denoising Diffusion Probabilistic Models', 'Ho, Jain, Abbeel', 2020, 'NeurIPS', 'predict the noise; simple loss works best'],
    ['radford-2021', 'Learning Transferable Visual Models From Natural Language Supervision', 'Radford et al.', 2021, 'ICML', 'CLIP: 400M image-text pairs, zero-shot transfer'],
    ['loshchilov-2019', 'Decoupled Weight Decay Regularization', 'Loshchilov, Hutter', 2019, 'ICLR', 'AdamW: decay the weights apart from the gradient step'],
    ['zhang-2018', 'mixup: Beyond Empirical Risk Minimization', 'Zhang et al.', 2018, 'ICLR', 'train on convex combinations of pairs of examples'],
    ['devlin-2019', 'BERT: Pre-training of Deep Bidirectional Transformers', 'Devlin et al.', 2019, 'NAACL', 'masked language modelling, then fine-tune'],
    ['lewis-2020', 'Retrieval-Augmented Generation for Knowledge-Intensive NLP Tasks', 'Lewis et al.', 2020, 'NeurIPS', 'a retriever feeds passages to a seq2seq generator'],
    ['kingma-2015', 'Adam: A Method for Stochastic Optimization', 'Kingma, Ba', 2015, 'ICLR', 'per-parameter step sizes from moment estimates'],
  ] as const
).map(([slug, title, authors, year, venue, takeaway]) => m(`papers/${slug}`, { title, authors, year, venue, takeaway, read: true }));

const advisorMeetings: LabelledMemory[] = (
  [
    ['2026-01-12', ['scope of chapter 2 is too wide', 'drop the GAN baseline'], ['send a one-page plan']],
    ['2026-01-26', ['liked the distillation results', 'run 5 seeds before claiming anything'], ['seeds for exp-035']],
    ['2026-02-09', ['related work section reads like a list', 'group papers by idea, not by year'], ['rewrite related work']],
    ['2026-02-23', ['NeurIPS submission is realistic', 'ask Dr. Rossi to review the method section'], []],
    ['2026-03-09', ['teaching load is fine', 'summer school in Lugano worth attending'], ['apply to the summer school']],
    ['2026-03-23', ['diffusion results look promising', 'compare to the cosine schedule paper'], ['add FID at 50k samples']],
  ] as const
).map(([date, feedback, todo]) => m(`advisor/${date}`, { feedback: [...feedback], todo: [...todo] }));

const running: LabelledMemory[] = (
  [
    ['week-2026-08', 38.2, 16, '5:20'],
    ['week-2026-09', 41.0, 18, '5:15'],
    ['week-2026-10', 44.5, 21, '5:12'],
    ['week-2026-11', 30.1, 12, '5:05'],
    ['week-2026-12', 47.3, 24, '5:10'],
  ] as const
).map(([week, km, longRunKm, avgPace]) => m(`running/${week}`, { km, longRunKm, avgPace, injuries: false }));

const contacts: LabelledMemory[] = (
  [
    ['prof_huber', 'Prof. Dr. Andreas Huber', 'PhD advisor', 'andreas.huber@inf.ethz.ch', 'office CAB F 21, replies within a day'],
    ['dr_rossi', 'Dr. Giulia Rossi', 'postdoc in the lab', 'giulia.rossi@inf.ethz.ch', 'expert on diffusion models'],
    ['yuki', 'Yuki Watanabe', 'sister', 'yuki.w@example.jp', '大阪在住, works as a nurse'],
    ['lucas_meier', 'Lucas Meier', 'flatmate', 'lucas.meier@example.ch', 'pays the internet bill, I pay electricity'],
    ['sophie_laurent', 'Sophie Laurent', 'French tandem partner', 'sophie.l@example.fr', 'on se voit le jeudi au café Odeon'],
    ['hiroshi', 'Hiroshi Sato', 'friend from Tohoku University', 'hiroshi.sato@example.jp', 'now at Preferred Networks'],
  ] as const
).map(([slug, name, role, email, notes]) => m(`contact.${slug}`, { name, role, email, notes }));

export const KENJI: UserSet = {
  userId: 'kenji-lab',
  memories: [
    m('user_preferences', { language: 'en', secondLanguage: 'ja', citationStyle: 'ACM', darkMode: true, units: 'metric', answerLength: 'brief' }),
    ...experiments,
    ...papers,
    m('datasets/imagenet', { path: '/cluster/datasets/imagenet-1k', sizeGb: 147, license: 'research only', format: 'webdataset shards' }),
    m('datasets/arxiv-abstracts', { path: '/cluster/home/kwatanabe/data/arxiv', documents: 1700000, source: 'Kaggle snapshot 2025-12' }),
    m('datasets/celeba-hq', { path: '/cluster/datasets/celeba-hq', images: 30000, resolution: 1024, note: 'downsampled to 64px copy exists' }),
    m('cluster/slurm', { partition: 'gpu-a100', maxHours: 24, account: 'ml-lab', quotaGpuHours: 5000, usedGpuHours: 3120 }),
    m('cluster/ssh', { host: 'euler.ethz.ch', user: 'kwatanabe', key: '~/.ssh/id_ed25519', jumpHost: null }),
    m('deadlines/neurips-2026', { abstract: '2026-05-13', fullPaper: '2026-05-20', status: 'drafting', coauthors: ['Giulia Rossi', 'Andreas Huber'] }),
    m('deadlines/iclr-2027', { abstract: '2026-09-24', fullPaper: '2026-10-01', status: 'idea' }),
    m('deadlines/thesis-proposal', { date: '2026-06-30', committee: ['Prof. Huber', 'Prof. Krause', 'external: Prof. Sato (Tokyo)'], pages: 25 }),
    m('deadlines/visa-renewal', { permit: 'B permit', expires: '2026-08-31', office: 'Migrationsamt Zürich', documents: ['employment contract', 'passport', 'photo'] }),
    m('deadlines/snsf-report', { due: '2026-04-30', sections: ['progress', 'publications', 'budget'], owner: 'Prof. Huber' }),
    ...advisorMeetings,
    m('teaching/ta_schedule', { course: 'Introduction to Machine Learning', sessions: 'Wednesdays 14:15-16:00', room: 'HG E 3', students: 42, gradingDue: 'Monday after each exercise sheet' }),
    m('teaching/exercise_ideas', ['gradient descent on a 2-D bowl, plot the path', 'overfit a tiny MLP on 10 points', 'implement k-means from scratch']),
    ...running,
    m('running/marathon_plan', { event: 'Zürich Marathon', date: '2026-04-19', goalTime: '3:29:59', paceMinPerKm: '4:58', taperWeeks: 2 }),
    m('running/shoes', [{ model: 'Saucony Endorphin Speed 4', km: 480 }, { model: 'Nike Pegasus 41', km: 910, retire: true }]),
    m('piano/repertoire', ['Chopin Nocturne Op. 9 No. 2', 'Satie Gymnopédie No. 1', 'Debussy Clair de Lune', 'Bach Prelude in C major BWV 846']),
    m('piano/lessons', { teacher: 'Frau Bächli', day: 'Saturday 10:00', costChf: 70, practiceGoalMinutes: 30 }),
    m('french/vocab', [{ fr: 'déjà vu', en: 'already seen' }, { fr: 'la veille', en: 'the day before' }, { fr: "avoir le cafard", en: 'to feel down' }, { fr: 'un bouchon', en: 'a traffic jam (also a cork)' }]),
    m('french/progress', { level: 'B1', course: 'Klubschule Migros, Tuesday evenings', examGoal: 'DELF B2 in November' }),
    m('family/parents', { names: ['Takeshi', 'Michiko'], city: '仙台 (Sendai)', callDay: 'Sunday evening JST', note: '母の誕生日は6月3日' }),
    m('family/gifts', { mother: 'Swiss chocolate from Sprüngli', father: 'a Victorinox knife', sister: 'Läderach box' }),
    ...contacts,
    m('apartment/lease', { rentChf: 1850, depositChf: 5550, landlord: 'Livit AG', noticeMonths: 3, address: 'Universitätstrasse 19, 8006 Zürich' }),
    m('apartment/plants', [{ name: 'Monstera', water: 'weekly' }, { name: 'Pothos', water: 'when the soil is dry' }, { name: 'Basil', water: 'daily in summer' }]),
    m('apartment/laundry', { slot: 'Thursday 18:00-22:00', room: 'basement, machine 2' }),
    m('finances/budget', { rentChf: 925, groceriesChf: 450, transportChf: 80, savingsRate: 0.15 }),
    m('finances/stipend', { amountChf: 4500, source: 'SNSF project grant', paidOn: '25th', pillar3a: true }),
    m('finances/taxes', { canton: 'Zürich', deadline: '2026-03-31', extension: 'requested to 2026-09-30' }),
    m('recipe.tonkotsu_ramen', { name: 'Tonkotsu ramen', ingredients: ['pork bones', 'chashu', 'ajitama eggs', 'thin noodles', 'nori'], hours: 12, vegetarian: false }),
    m('recipe.onigiri', { name: 'Onigiri', ingredients: ['sushi rice', 'umeboshi', 'salmon flakes', 'nori'], minutes: 20, vegetarian: false }),
    m('recipe.roesti', { name: 'Rösti', ingredients: ['waxy potatoes', 'butter', 'salt'], minutes: 35, vegetarian: true }),
    m('recipe.miso_soup', { name: 'Miso soup', ingredients: ['dashi', 'white miso', 'tofu', 'wakame', 'spring onion'], minutes: 15, vegetarian: false }),
    m('gear/laptop', { model: 'MacBook Air M3', ramGb: 24, storageTb: 1, purchased: '2025-02' }),
    m('gear/camera', { body: 'Fujifilm X-T5', lenses: ['XF 23mm f/1.4', 'XF 70-300mm'], insured: true }),
    m('conference/neurips-2025-notes', { city: 'San Diego', bestTalks: ['test-time compute scaling', 'data curation beats model size'], people: ['met Hiroshi', 'lunch with the Tübingen group'] }),
    m('reading_queue', ['The Elements of Statistical Learning, ch. 7', 'Deep Learning (Goodfellow), ch. 20', 'Kingma and Welling, VAE tutorial']),
    m('gear/bike', { model: 'Canyon Grizl', lock: 'Abus Granit', commuteKm: 6.5 }),
    m('ideas/research', ['distill diffusion models into one-step generators with LoRA', 'retrieval-augmented vision transformers', 'data pruning with influence scores']),
    m('conv/2026-02-14-rebuttal', { topic: 'writing a rebuttal for a rejected workshop paper', summary: 'answer each reviewer point by point; concede the missing ablation', followUp: 'run the ablation' }),
    m('conv/2026-02-28-lr-finder', { topic: 'choosing a learning rate for LoRA', summary: 'sweep 1e-5 to 1e-3 on 1% of the data; 2e-4 was best', followUp: null }),
    m('conv/2026-03-07-homesick', { topic: 'missing home', summary: 'plan a trip to Sendai for Obon in August; video call every Sunday', followUp: 'check flight prices' }),
    m('conv/2026-03-14-plotting', { topic: 'matplotlib figures for the paper', summary: 'use the ACM column width, serif fonts, colour-blind palette', followUp: null }),
    m('conv/2026-03-21-injury', { topic: 'knee pain after the long run', summary: 'likely IT band; foam roll, cut mileage by 30% for a week', followUp: 'see a physio if it persists' }),
    m('conv/2026-03-28-career', { topic: 'industry vs academia after the PhD', summary: 'internship at a research lab in summer 2027 to compare', followUp: 'ask Hiroshi about Preferred Networks' }),
  ],
  queries: [
    { q: 'LoRA rank 64', relevant: ['experiments/exp-037'], sharesWord: true, note: 'a number as a word; 64 is also a batch size elsewhere' },
    { q: 'loss NaN', relevant: ['experiments/exp-038'], sharesWord: true },
    { q: 'which run blew up during training', relevant: ['experiments/exp-038'], sharesWord: false },
    { q: '"Attention Is All You Need"', relevant: ['papers/vaswani-2017'], sharesWord: true, note: 'quoted phrase made of common words' },
    { q: 'who invented transformers', relevant: ['papers/vaswani-2017'], sharesWord: false },
    { q: 'NeurIPS deadline', relevant: ['deadlines/neurips-2026'], sharesWord: true },
    { q: 'GPU hours quota', relevant: ['cluster/slurm'], sharesWord: true, note: 'camelCase field quotaGpuHours' },
    { q: 'marathon goal time', relevant: ['running/marathon_plan'], sharesWord: true },
    { q: 'how fast do I want to finish the 42k race', relevant: ['running/marathon_plan'], sharesWord: false },
    { q: 'Chopin', relevant: ['piano/repertoire'], sharesWord: true },
    { q: 'what pieces am I practising on the keyboard', relevant: ['piano/repertoire'], sharesWord: false },
    { q: 'rent CHF', relevant: ['apartment/lease', 'finances/budget'], sharesWord: true, note: 'camelCase fields rentChf' },
    { q: 'deja vu', relevant: ['french/vocab'], sharesWord: true, note: 'déjà folded' },
    { q: 'advisor feedback on the related work section', relevant: ['advisor/2026-02-09'], sharesWord: true },
    { q: 'Sendai', relevant: ['family/parents', 'conv/2026-03-07-homesick'], sharesWord: true, note: 'next to CJK text' },
    { q: 'when do I phone mom and dad', relevant: ['family/parents'], sharesWord: false },
    { q: 'monstera watering', relevant: ['apartment/plants'], sharesWord: true },
    { q: 'how much do I earn each month', relevant: ['finances/stipend'], sharesWord: false },
    { q: 'ramen recipe', relevant: ['recipe.tonkotsu_ramen'], sharesWord: true },
    { q: 'contrastive learning', relevant: ['experiments/exp-040', 'papers/chen-2020'], sharesWord: true },
    { q: 'who supervises my doctorate', relevant: ['contact.prof_huber'], sharesWord: false },
    { q: '大阪', relevant: ['contact.yuki'], sharesWord: true, note: 'Japanese, no spaces: 大阪 inside 大阪在住' },
    { q: 'ViT-S/16 ImageNet', relevant: ['experiments/exp-033', 'experiments/exp-034', 'experiments/exp-035'], sharesWord: true, note: 'three answers' },
    { q: 'FID of the U-Net runs', relevant: ['experiments/exp-042', 'experiments/exp-043', 'experiments/exp-044'], sharesWord: true, note: 'three answers' },
    { q: 'A100', relevant: ['cluster/slurm', 'experiments/exp-050'], sharesWord: true, note: 'gpu-a100 in one answer' },
    { q: 'Zurich marathon', relevant: ['running/marathon_plan'], sharesWord: true, note: 'Zürich folded' },
    { q: 'B permit expiry', relevant: ['deadlines/visa-renewal'], sharesWord: true },
    { q: 'thesis committee', relevant: ['deadlines/thesis-proposal'], sharesWord: true },
  ],
};
