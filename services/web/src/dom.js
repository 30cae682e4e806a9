// A button that acts on one thing the page lists, named for it.

export function actionButton(label, subject, action) {
  const element = document.createElement('button');
  element.type = 'button';
  element.textContent = label;
  // The visible word first: "Delete report.pdf" still answers to "Delete".
  element.setAttribute('aria-label', `${label} ${subject}`);
  element.addEventListener('click', action);
  return element;
}
