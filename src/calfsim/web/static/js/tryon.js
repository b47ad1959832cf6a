// The try-on page: measurements (or a scan) and a treatment -> /api/simulate -> the 3D legs,
// the week slider, the band switch and the girth chart. Progressive: the page says what to do
// without JavaScript, and nothing here is needed by the other pages.
import { formProtocol, setupConditional, setupUnitToggle } from './forms.js';
import { drawChart, valuesAt } from './chart.js';

const CM_PER_INCH = 2.54;
const BAND_WORDS = { median: 'likely', p10: 'best case', p90: 'little change' };

const $ = (id) => document.getElementById(id);
const form = $('tryon-form');
const csrf = document.querySelector('meta[name="csrf-token"]')?.content || '';
const tapeErrorCm = parseFloat(form.dataset.tapeErrorCm) || 0;

const state = { mode: 'measure', week: 0, band: 'median', leg: null, legs: {}, unit: 'cm', chart: null, viewer: null, viewerLoading: null };
window.calfsimTryOn = state; // read by the browser tests and handy in the console

setupUnitToggle(form);
setupConditional(form);
form.addEventListener('unitchange', (e) => { state.unit = e.detail.unit; updateReadout(); });

// --- tabs ---------------------------------------------------------------------------------
for (const tab of form.querySelectorAll('[role="tab"]')) {
  tab.addEventListener('click', () => {
    for (const other of form.querySelectorAll('[role="tab"]')) {
      const selected = other === tab;
      other.setAttribute('aria-selected', String(selected));
      $(other.getAttribute('aria-controls')).classList.toggle('hidden', !selected);
    }
    state.mode = tab.id === 'tab-scan' ? 'scan' : 'measure';
  });
}
$('f-dose').addEventListener('input', () => { $('dose-out').textContent = `${$('f-dose').value} U`; });

// --- the request --------------------------------------------------------------------------
function protocol({ needGirths }) {
  return formProtocol(form, {
    needGirths, missingGirths: 'Enter the calf girth of at least one leg (the widest part of the calf).',
  });
}

async function readError(response) {
  try {
    const body = await response.json();
    const problems = (body.problems || []).map((p) => (p.field ? `${p.field}: ${p.message}` : p.message));
    return problems.length ? problems : [body.message || body.detail || `error ${response.status}`];
  } catch {
    return [`The server answered ${response.status}. Please try again.`];
  }
}

async function postJson(url, data) {
  const response = await fetch(url, {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': csrf }, body: JSON.stringify(data),
  });
  if (!response.ok) throw Object.assign(new Error('request failed'), { problems: await readError(response) });
  return response.json();
}

async function uploadScan(file) {
  const body = new FormData();
  body.append('scan', file);
  const response = await fetch('/api/measure', { method: 'POST', headers: { 'x-csrf-token': csrf }, body });
  if (!response.ok) throw Object.assign(new Error('upload failed'), { problems: await readError(response) });
  return response.json();
}

// --- the result ---------------------------------------------------------------------------
/** Per-leg {days, median, p10, p90, baseline_cm} from the simulation summary. */
export function legsFromSummary(summary) {
  const prediction = summary.prediction || summary;
  const out = {};
  for (const [side, leg] of Object.entries(prediction.legs || {})) {
    const girth = leg.calf_girth_cm || {};
    if (!leg.days || !girth.median) continue;
    out[side] = {
      days: leg.days, median: girth.median, p10: girth.p10, p90: girth.p90,
      baseline_cm: leg.baseline_calf_girth_cm ?? girth.median[0],
    };
  }
  return out;
}

/** Height of the highest girth level above the floor (about the knee), m, or null. */
function kneeHeight(summary) {
  const heights = Object.values(summary.legs || {}).flatMap((leg) => leg.level_heights_m || []);
  return heights.length ? Math.max(...heights) : null;
}

function fmt(cm, digits = 1) {
  if (state.unit === 'in') return `${(cm / CM_PER_INCH).toFixed(digits)} in`;
  return `${cm.toFixed(digits)} cm`;
}

function updateReadout() {
  const leg = state.legs[state.leg];
  $('week-out').textContent = `week ${state.week}`;
  $('legend-week').textContent = String(state.week);
  if (!leg) return;
  const v = valuesAt(leg, state.week * 7);
  const value = v[state.band];
  const change = value - leg.baseline_cm;
  $('r-base').textContent = fmt(leg.baseline_cm);
  $('r-week-label').textContent = `Week ${state.week}, ${BAND_WORDS[state.band]}`;
  $('r-week').textContent = fmt(value);
  $('r-band').textContent = `range ${fmt(v.p10)} – ${fmt(v.p90)}`;
  $('r-change').textContent = `${change <= 0 ? '−' : '+'}${fmt(Math.abs(change))}`;
  $('r-visible').textContent = Math.abs(change) > tapeErrorCm
    ? 'more than a tape can tell' : `within a tape's error (±${fmt(tapeErrorCm)})`;
  state.chart?.setWeek(state.week, v);
}

function drawLegChart() {
  const leg = state.legs[state.leg];
  if (!leg) return;
  const box = $('chart');
  const sides = Object.keys(state.legs);
  box.replaceChildren();
  if (sides.length > 1) {
    const switcher = document.createElement('div');
    switcher.className = 'seg';
    switcher.setAttribute('role', 'group');
    switcher.setAttribute('aria-label', 'Leg');
    for (const side of sides) {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'seg-btn';
      b.textContent = `${side[0].toUpperCase()}${side.slice(1)} leg`;
      b.setAttribute('aria-pressed', String(side === state.leg));
      b.addEventListener('click', () => { state.leg = side; drawLegChart(); updateReadout(); });
      switcher.appendChild(b);
    }
    box.appendChild(switcher);
  }
  const holder = document.createElement('div');
  box.appendChild(holder);
  state.chart = drawChart(holder, leg, { tapeErrorCm, title: `${state.leg} leg. ` });
}

function showErrors(problems) {
  const box = $('form-errors');
  box.replaceChildren();
  if (!problems || !problems.length) { box.classList.add('hidden'); return; }
  const strong = document.createElement('strong');
  strong.textContent = 'Please check:';
  const list = document.createElement('ul');
  for (const p of problems) {
    const li = document.createElement('li');
    li.textContent = p;
    list.appendChild(li);
  }
  box.append(strong, list);
  box.classList.remove('hidden');
}

function busy(on, text) {
  $('busy').classList.toggle('hidden', !on);
  if (text) $('busy-text').textContent = text;
  $('simulate').disabled = on;
}

/** The viewer, created once (three.js is imported on first use; later calls share it). */
function viewer() {
  state.viewerLoading ||= import('./viewer.js').then(({ LegViewer }) => {
    state.viewer = new LegViewer($('viewer'));
    return state.viewer;
  }).catch((error) => { state.viewerLoading = null; throw error; });
  return state.viewerLoading;
}

async function fetchGlb(url) {
  const response = await fetch(url);
  if (!response.ok) throw Object.assign(new Error('no model'), { problems: await readError(response) });
  return response.arrayBuffer();
}

// The model comes in parts cut from the simulation's GLB (see /api/simulations/{id}/parts/...):
// the skins with the weekly medians first, the band targets and the muscles when first needed.
const partUrl = (id, part) => `/api/simulations/${id}/parts/${part}.glb`;

/** The first part of the model; the whole GLB for a simulation stored without parts. */
async function fetchFirstPart(id, wholeUrl) {
  const buffer = await fetchGlb(partUrl(id, 'median')).catch(() => fetchGlb(wholeUrl));
  performance.mark('calfsim-glb-downloaded');
  return buffer;
}

/** Loaders of the other parts, for LegViewer.load (none for the muscles if there are none). */
function laterParts(summary, id) {
  const hasMuscles = (summary.meshes || []).some((mesh) => mesh.part !== 'skin');
  return {
    bands: () => fetchGlb(partUrl(id, 'bands')),
    ...(hasMuscles ? { muscles: () => fetchGlb(partUrl(id, 'muscles')) } : {}),
  };
}

async function show(summary, { glb } = {}) {
  state.summary = summary;
  state.legs = legsFromSummary(summary);
  state.leg = state.legs.left ? 'left' : Object.keys(state.legs)[0];
  const id = summary.simulation_id ?? summary.id;
  const url = summary.glb_url || `/api/simulations/${id}/legs.glb`;
  busy(true, 'Loading your 3D legs…');
  const buffer = glb || fetchFirstPart(id, url); // download while three.js loads
  const v = await viewer();
  performance.mark('calfsim-viewer-created');
  await v.load(await buffer, { kneeHeightM: kneeHeight(summary), parts: laterParts(summary, id) });
  performance.mark('calfsim-glb-loaded');
  await v.setState({ week: state.week, band: state.band });
  $('viewer-overlay').classList.add('hidden');
  $('viewer-legend').classList.remove('hidden');
  $('week').disabled = false;
  drawLegChart();
  updateReadout();
  $('notes').textContent = (summary.notes || summary.prediction?.notes || []).join(' ');
  if (id) history.replaceState(null, '', `?simulation=${encodeURIComponent(id)}`);
  // Ready when the first frame with the legs has been drawn (shaders compiled, buffers up).
  await new Promise((resolve) => { requestAnimationFrame(() => requestAnimationFrame(resolve)); });
  performance.mark('calfsim-ready');
  document.body.dataset.viewerReady = String(Date.now());
  afterFrame();
}

async function simulate(event) {
  event.preventDefault();
  showErrors([]);
  let request;
  try {
    request = protocol({ needGirths: state.mode === 'measure' });
  } catch (error) {
    showErrors([error.message]);
    return;
  }
  viewer().catch(() => {}); // load three.js while the server works (a failure shows later)
  performance.mark('calfsim-submit');
  try {
    if (state.mode === 'scan') {
      const file = $('f-scan').files[0];
      if (!file) throw Object.assign(new Error('no file'), { problems: ['Choose a scan file first.'] });
      busy(true, 'Measuring your scan…');
      const measured = await uploadScan(file);
      const found = Object.values(measured.legs || {}).map((leg) => leg.side).filter(Boolean);
      $('scan-status').textContent = found.length
        ? `Scan measured: ${found.join(' and ')} leg found.` : 'Scan measured.';
      request.scan_id = measured.scan_id;
    }
    busy(true, 'Simulating thousands of virtual patients and shaping your legs…');
    const summary = await postJson('/api/simulate', request);
    performance.mark('calfsim-simulated');
    await show(summary);
  } catch (error) {
    showErrors(error.problems || [`Something went wrong: ${error.message}`]);
  } finally {
    busy(false);
  }
}

/** Show a stored simulation named in the address (?simulation=ID), e.g. after a reload. */
async function showStored() {
  const id = new URLSearchParams(window.location.search).get('simulation');
  if (!id || !/^[0-9a-f]{32}$/.test(id)) return;
  try {
    busy(true, 'Loading your simulation…');
    // The summary, the model and three.js load in parallel.
    const glb = fetchFirstPart(id, `/api/simulations/${id}/legs.glb`);
    glb.catch(() => {}); // reported through show() if the summary loads
    viewer().catch(() => {}); // the same
    const response = await fetch(`/api/simulations/${id}`);
    if (!response.ok) throw Object.assign(new Error('gone'), { problems: await readError(response) });
    await show(await response.json(), { glb });
  } catch (error) {
    showErrors(error.problems || [`Could not load the simulation: ${error.message}`]);
  } finally {
    busy(false);
  }
}

form.addEventListener('submit', simulate);

/**
 * Once the frame showing the current state is drawn (the frame after the one rendered), run
 * `then` and publish the state as body[data-shown] ("week-band-view-xray"), for tests.
 */
function afterFrame(then) {
  const shown = `${state.week}-${state.band}-${state.viewer?.view || 'back'}-${$('xray').checked ? 1 : 0}`;
  requestAnimationFrame(() => requestAnimationFrame(() => {
    if (then) then();
    document.body.dataset.shown = shown;
  }));
}

$('week').addEventListener('input', () => {
  performance.mark('calfsim-slider-input');
  state.week = Number($('week').value);
  state.viewer?.setState({ week: state.week });
  updateReadout();
  afterFrame(() => performance.measure('calfsim-slider', 'calfsim-slider-input'));
});
/** Apply a change that may first load a part of the model; then publish the frame shown. */
async function change(apply) {
  try {
    await apply();
  } catch (error) {
    showErrors(error.problems || [`Could not load this view: ${error.message}`]);
  }
  afterFrame();
}

for (const radio of document.querySelectorAll('input[name="band"]')) {
  radio.addEventListener('change', () => {
    state.band = radio.value;
    updateReadout();
    change(() => state.viewer?.setState({ band: state.band }));
  });
}
// Start loading a part as soon as its control is approached (hover, focus, touch).
for (const [selector, part] of [['[aria-label="Range"]', 'bands'], ['label:has(#xray)', 'muscles']]) {
  const control = document.querySelector(selector);
  for (const type of ['pointerenter', 'focusin', 'touchstart']) {
    control?.addEventListener(type, () => { state.viewer?.loadPart(part).catch(() => {}); }, { passive: true });
  }
}
for (const button of document.querySelectorAll('[data-view]')) {
  button.setAttribute('aria-pressed', String(button.dataset.view === 'back'));
  button.addEventListener('click', () => {
    for (const b of document.querySelectorAll('[data-view]')) b.setAttribute('aria-pressed', String(b === button));
    state.viewer?.setView(button.dataset.view);
    afterFrame();
  });
}
$('xray').addEventListener('change', () => {
  change(() => state.viewer?.setXray($('xray').checked));
});

// Create the viewer (and compile its shaders) while the person types.
if (new URLSearchParams(window.location.search).has('simulation')) {
  showStored();
} else {
  (window.requestIdleCallback || ((f) => setTimeout(f, 200)))(() => { viewer().catch(() => {}); });
}
