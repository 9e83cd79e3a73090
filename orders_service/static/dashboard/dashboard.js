// The dashboard's one script: ward lists that follow the chosen province. Pages work without it.
document.addEventListener("change", async (event) => {
  const province = event.target.closest("select[data-wards]");
  if (!province) return;
  const wards = document.getElementById(province.dataset.wards);
  const response = await fetch(`/dashboard/geo/wards?province_code=${encodeURIComponent(province.value)}`);
  if (response.ok) wards.innerHTML = await response.text();
});
