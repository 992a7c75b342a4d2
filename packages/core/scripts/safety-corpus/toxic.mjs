// Toxic and non-toxic training/evaluation sentences, generated from templates written for Tollgate
// (Apache-2.0). Kept deliberately small and free of slurs: the built-in toxicity scorer is a coarse
// net for abuse, threats and harassment in agent inputs/outputs, not a replacement for a moderation
// model (see docs/content-safety.md, "Limits").

const INSULTS = ['idiot', 'moron', 'imbecile', 'loser', 'clown', 'pathetic worm', 'worthless piece of garbage', 'useless fool', 'disgusting pig', 'brainless twit', 'piece of shit', 'jerk', 'scumbag', 'dumbass', 'asshole', 'bastard'];
const THREATS = ['I will kill you', 'I am going to hurt you', 'I will find where you live', 'you will regret this, I promise', 'I will beat you until you bleed', 'I hope you die', 'someone should shoot you', 'I will burn your house down', 'watch your back', 'I will make your life hell'];
const TARGETS = ['you', 'your whole team', 'people like you', 'the support staff', 'that manager', 'your family'];

const TEMPLATES = {
  insult1: (i, t) => `You are a complete ${i}.`,
  insult2: (i) => `Shut up, you ${i}. Nobody asked for your opinion.`,
  insult3: (i) => `What a ${i}. I can't believe they hired someone this stupid.`,
  insult4: (i) => `Listen here you ${i}, fix my account or get lost.`,
  threat1: (_, t, th) => `${th}. Don't test me.`,
  threat2: (_, t, th) => `If you cancel my order again, ${th.toLowerCase()}.`,
  threat3: (_, t, th) => `Tell ${t} that ${th.toLowerCase()}.`,
  hate1: (_, t) => `I hate ${t}. ${t[0].toUpperCase() + t.slice(1)} are vermin and should be wiped out.`,
  hate2: (i, t) => `${t[0].toUpperCase() + t.slice(1)} are subhuman trash, every single one is a ${i}.`,
  profane1: (i) => `Fuck you and fuck this company, you ${i}.`,
  profane2: () => `This is fucking bullshit, shut the fuck up and give me my money back.`,
  harass1: (i, t) => `Everyone knows ${t} is a ${i}. Go kill yourself.`,
};

export const TRAIN_TOXIC_TEMPLATES = ['insult1', 'insult2', 'threat1', 'threat3', 'hate1', 'profane1', 'harass1'];
export const TEST_TOXIC_TEMPLATES = ['insult3', 'insult4', 'threat2', 'hate2', 'profane2'];

/** Toxic sentences for the given templates, combining insults, threats and targets. */
export function toxicExamples(templateIds) {
  const out = [];
  for (const id of templateIds) {
    const seen = new Set();
    for (let k = 0; k < INSULTS.length; k++) {
      const text = TEMPLATES[id](INSULTS[k], TARGETS[k % TARGETS.length], THREATS[k % THREATS.length]);
      if (seen.has(text)) continue;
      seen.add(text);
      out.push({ text, group: `toxic:${id}` });
    }
  }
  return out;
}

/** Non-toxic sentences that share vocabulary with toxic ones (kill a process, attack surface, ...). */
export const NON_TOXIC_TRICKY = [
  'Kill the process with kill -9 if it does not stop after SIGTERM.',
  'This bug is killing me, I have been debugging it all afternoon.',
  'The attack surface of the service is small because it has no public endpoints.',
  'Shoot me an email when the report is ready.',
  'I hate to say it, but the old version was faster.',
  'It was a stupid mistake on my part, sorry for the confusion.',
  'The dumb terminal in the lab still works.',
  'We need to beat the deadline by Friday.',
  'The movie was about a hitman who wants to retire.',
  'Our team crushed the quarterly targets.',
  'The children played cops and robbers in the garden.',
  'Please destroy the old hard drives according to the disposal policy.',
  'The villain in the novel threatens to burn the village down.',
  'Mix the dough until smooth, then beat in the eggs one at a time.',
  'Hit the road early to avoid the traffic.',
  'Terminate the instance after the backup completes.',
  'That was a killer presentation, well done!',
  'The history lesson covered the war and its victims.',
  'Execute the script and check the logs for errors.',
  'I could murder a pizza right now.',
];
