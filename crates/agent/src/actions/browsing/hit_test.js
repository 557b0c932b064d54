function(point) {
    let [x, y, max] = point;
    try {
        for (let w = this.ownerDocument.defaultView; w && w.frameElement; w = w.parent) {
            const r = w.frameElement.getBoundingClientRect();
            x -= r.left + w.frameElement.clientLeft;
            y -= r.top + w.frameElement.clientTop;
        }
    } catch (e) { return {ok: true}; }
    let hit = this.ownerDocument.elementFromPoint(x, y);
    while (hit && hit.shadowRoot) {
        const inner = hit.shadowRoot.elementFromPoint(x, y);
        if (!inner || inner === hit) break;
        hit = inner;
    }
    if (!hit) return {covered: 'nothing (the point is off the page)'};
    const within = (n, root) => { for (; n; n = n.parentNode || n.host) if (n === root) return true; return false; };
    if (within(hit, this)) return {ok: true};
    for (const label of this.labels || []) if (within(hit, label)) return {ok: true};
    const all = (hit.innerText || '').trim().replace(/\s+/g, ' ');
    const text = all.length > max ? all.slice(0, max - 1) + '…' : all;
    return {covered: '<' + hit.tagName.toLowerCase() + (hit.id ? '#' + hit.id : '') + '>', text};
}
