// The handout's Print button (no inline script: the CSP forbids it).
document.getElementById("print").addEventListener("click", () => window.print());
