document.querySelectorAll('.ranking-tabs [role=tab]').forEach(function (tab) {
  tab.addEventListener('click', function () {
    document.querySelectorAll('.ranking-tabs [role=tab]').forEach(function (t) {
      var on = t === tab;
      t.classList.toggle('is-active', on);
      t.setAttribute('aria-selected', on ? 'true' : 'false');
      document.getElementById(t.getAttribute('aria-controls')).hidden = !on;
    });
  });
});
