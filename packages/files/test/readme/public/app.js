document.getElementById('app').textContent = 'hello from app.js';
