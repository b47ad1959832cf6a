// "Try it on your photo" on the try-on page: the person's photo and the same measurements and
// treatment as the 3D form -> POST /api/tryon -> "before" and "after" one over the other with a
// draggable divider, a week slider over the weeks the server returned, and the band switch.
// The photo is sent once per band and kept only in this page; the server keeps nothing.
// Never shows an "after" alone: both images appear together, or neither.

import { formProtocol, formUnit } from './forms.js';

const CM_PER_INCH = 2.54;
const BAND_WORDS = { median: 'likely', p10: 'best case', p90: 'little change' };

const $ = (id) => document.getElementById(id);
const section = $('photo-tryon');
const measureForm = $('tryon-form');
const csrf = document.querySelector('meta[name="csrf-token"]')?.content || '';

const state = { file: null, band: 'median', answer: null, index: null, split: 50, busy: false };
window.calfsimPhotoTryOn = state; // read by the browser tests

function unit() {
  return formUnit(measureForm);
}

function fmt(cm) {
  return unit() === 'in' ? `${(cm / CM_PER_INCH).toFixed(1)} in` : `${cm.toFixed(1)} cm`;
}

/** The protocol of the 3D form above (same fields, same treatment). */
function protocol() {
  return formProtocol(measureForm, {
    needGirths: true,
    missingGirths: 'Enter the calf girth of at least one leg in the Measurements above: it sets the photo\'s scale.',
  });
}

function show(el, on) { el.classList.toggle('hidden', !on); }

function showMessage(kind, title, lines) {
  const box = $('photo-message');
  box.replaceChildren();
  if (!lines || !lines.length) { show(box, false); return; }
  box.className = kind === 'advice' ? 'callout warn' : 'errors';
  const strong = document.createElement('strong');
  strong.textContent = title;
  const list = document.createElement('ul');
  for (const line of lines) {
    const li = document.createElement('li');
    li.textContent = line;
    list.appendChild(li);
  }
  box.append(strong, list);
  show(box, true);
}

function setBusy(on) {
  state.busy = on;
  show($('photo-busy'), on);
  $('photo-go').disabled = on;
  section.toggleAttribute('data-busy', on);
}

// --- the comparison -------------------------------------------------------------------------
function setSplit(percent) {
  state.split = Math.min(100, Math.max(0, percent));
  const compare = $('photo-compare');
  compare.style.setProperty('--split', `${state.split}%`); // CSSOM: allowed by the CSP
  const handle = $('photo-divider');
  handle.setAttribute('aria-valuenow', String(Math.round(state.split)));
  handle.setAttribute('aria-valuetext', `${Math.round(state.split)}% before, ${100 - Math.round(state.split)}% after`);
}

function splitFromPointer(event) {
  const box = $('photo-compare').getBoundingClientRect();
  setSplit(((event.clientX - box.left) / box.width) * 100);
}

function setupDivider() {
  const compare = $('photo-compare');
  const handle = $('photo-divider');
  let dragging = false;
  compare.addEventListener('pointerdown', (event) => {
    if (event.button !== 0) return;
    dragging = true;
    compare.setPointerCapture(event.pointerId);
    splitFromPointer(event);
    handle.focus({ preventScroll: true });
    event.preventDefault();
  });
  compare.addEventListener('pointermove', (event) => { if (dragging) splitFromPointer(event); });
  const stop = (event) => {
    dragging = false;
    if (compare.hasPointerCapture(event.pointerId)) compare.releasePointerCapture(event.pointerId);
  };
  compare.addEventListener('pointerup', stop);
  compare.addEventListener('pointercancel', stop);
  handle.addEventListener('keydown', (event) => {
    const steps = { ArrowLeft: -2, ArrowDown: -2, ArrowRight: 2, ArrowUp: 2, PageDown: -10, PageUp: 10 };
    if (event.key in steps) setSplit(state.split + steps[event.key]);
    else if (event.key === 'Home') setSplit(0);
    else if (event.key === 'End') setSplit(100);
    else return;
    event.preventDefault();
  });
  setSplit(50);
}

function girthLine(frame) {
  const words = BAND_WORDS[state.band];
  return Object.entries(frame.girth_cm).map(([side, g]) => {
    const range = g.p10 !== undefined ? ` (range ${fmt(g.p10)} – ${fmt(g.p90)})` : '';
    return `${side[0].toUpperCase()}${side.slice(1)} calf: ${fmt(g.before)} today → ${fmt(g.shown)} ${words}${range}`;
  });
}

function showWeek(index) {
  const answer = state.answer;
  if (!answer) return;
  state.index = Math.min(answer.weeks.length - 1, Math.max(0, index));
  const frame = answer.weeks[state.index];
  const after = $('photo-after');
  after.src = `data:${answer.image.media_type};base64,${frame.after}`;
  after.alt = `After: your photo at week ${frame.week}, ${BAND_WORDS[state.band]} response (model illustration)`;
  $('photo-week-out').textContent = `week ${frame.week}`;
  $('photo-week').setAttribute('aria-valuetext', `week ${frame.week}`);
  $('photo-after-label').textContent = `After · week ${frame.week}`;
  const list = $('photo-girths');
  list.replaceChildren();
  for (const line of girthLine(frame)) {
    const li = document.createElement('li');
    li.textContent = line;
    list.appendChild(li);
  }
  section.dataset.shownWeek = String(frame.week);
}

function showAnswer(answer) {
  state.answer = answer;
  const before = $('photo-before');
  before.src = `data:${answer.image.media_type};base64,${answer.before}`;
  const slider = $('photo-week');
  slider.max = String(answer.weeks.length - 1);
  slider.disabled = false;
  // Keep the week across a band switch; start at week 12 (the usual peak) for a new photo.
  const wanted = state.index ?? Math.max(0, answer.weeks.findIndex((f) => f.week === 12));
  slider.value = String(wanted);
  $('photo-week-min').textContent = `week ${answer.weeks[0].week}`;
  showWeek(wanted);
  const notes = $('photo-notes');
  notes.replaceChildren();
  for (const note of answer.notes || []) {
    const li = document.createElement('li');
    li.textContent = note;
    notes.appendChild(li);
  }
  show($('photo-result'), true);
  section.dataset.band = state.band;
  section.toggleAttribute('data-ready', true);
}

async function readProblems(response) {
  try {
    const body = await response.json();
    return body.problems || [{ field: null, message: body.message || `error ${response.status}` }];
  } catch {
    return [{ field: null, message: `The server answered ${response.status}. Please try again.` }];
  }
}

async function run() {
  if (state.busy) return;
  showMessage(null, '', []);
  if (!state.file) {
    showMessage('error', 'Please check:', ['Choose a photo first (JPEG or PNG).']);
    return;
  }
  let data;
  try {
    data = protocol();
  } catch (error) {
    showMessage('error', 'Please check:', [error.message]);
    return;
  }
  const body = new FormData();
  body.append('photo', state.file);
  body.append('protocol', JSON.stringify(data));
  body.append('band', state.band);
  setBusy(true);
  try {
    const response = await fetch('/api/tryon', { method: 'POST', headers: { 'x-csrf-token': csrf }, body });
    if (!response.ok) {
      const problems = await readProblems(response);
      const photoProblems = problems.filter((p) => p.field === 'photo');
      if (response.status === 422 && photoProblems.length) {
        showMessage('advice', 'This photo cannot be used:', photoProblems.map((p) => p.message));
      } else {
        showMessage('error', 'Please check:', problems.map((p) => (p.field ? `${p.field}: ${p.message}` : p.message)));
      }
      section.toggleAttribute('data-refused', true);
      return;
    }
    section.toggleAttribute('data-refused', false);
    showAnswer(await response.json());
  } catch {
    showMessage('error', 'Please check:', ['The photo could not be sent. Check the connection and try again.']);
  } finally {
    setBusy(false);
  }
}

if (section && measureForm) {
  setupDivider();
  $('photo-file').addEventListener('change', (event) => {
    state.file = event.target.files?.[0] || null;
    state.answer = null;
    state.index = null;
    show($('photo-result'), false);
    section.toggleAttribute('data-ready', false);
  });
  $('photo-form').addEventListener('submit', (event) => { event.preventDefault(); run(); });
  $('photo-week').addEventListener('input', (event) => showWeek(Number(event.target.value)));
  for (const radio of section.querySelectorAll('input[name="photo_band"]')) {
    radio.addEventListener('change', () => {
      state.band = radio.value;
      if (state.answer) run();
    });
  }
  measureForm.addEventListener('unitchange', () => { if (state.answer) showWeek(state.index); });
  show($('photo-js'), true);
  show($('photo-nojs'), false);
}
