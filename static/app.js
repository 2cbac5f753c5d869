// Insights console: the two things that need a script, Copy and Download. Everything else works
// without JavaScript.
"use strict";

function say(button, text) {
  const status = button.closest("dialog, form, section, main")?.querySelector(".copied");
  const original = button.textContent;
  button.textContent = text;
  if (status) status.textContent = text;
  setTimeout(() => { button.textContent = original; }, 1500);
}

async function copyValue(button) {
  const field = document.getElementById(button.dataset.copy);
  if (!field) return;
  try {
    await navigator.clipboard.writeText(field.value);
  } catch {
    // Clipboard API unavailable (insecure context): fall back to selecting and copying.
    field.select();
    document.execCommand("copy");
  }
  say(button, "Copied");
}

function download(button) {
  // The values come from this page (the response that minted the token), never fetched again.
  const url = document.getElementById("issued-tenant-url")?.value ?? "";
  const token = document.getElementById("issued-token")?.value ?? "";
  const text = `Tenant URL: ${url}\nToken: ${token}\n`;
  const blob = new Blob([text], { type: "text/plain" });
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = button.dataset.download;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  say(button, "Downloaded");
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-copy], button[data-download]");
  if (!button) return;
  event.preventDefault();
  if (button.dataset.copy) copyValue(button);
  else download(button);
});

// Open the credentials dialog as a modal when supported, so focus stays inside it.
document.addEventListener("DOMContentLoaded", () => {
  const dialog = document.querySelector("dialog.credentials[open]");
  if (dialog && typeof dialog.showModal === "function") {
    dialog.close();
    dialog.showModal();
  }
});
