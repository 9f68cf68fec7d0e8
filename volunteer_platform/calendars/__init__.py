"""Calendar feeds: iCal documents built by pure functions (``ical``) from the
scheduling data (``queries``, ``services``), served to calendar apps with
public addresses or a person's secret token (``views``)."""
