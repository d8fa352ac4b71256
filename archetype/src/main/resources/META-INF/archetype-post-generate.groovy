// Sorts each generated Java file's import blocks the way google-java-format does (static imports,
// a blank line, the others; each block in lexicographic order). The templates cannot: where the
// user's package sorts against dev.chassis, io.grpc and java.* depends on the package chosen.
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.Paths

Path root = Paths.get(request.outputDirectory, request.artifactId)

// The Maven Wrapper must stay executable (archetypes do not keep file modes).
root.resolve('mvnw').toFile().setExecutable(true, false)

// Chassis' dashboard and alert rules, pointed at this service: the dashboard opens on it, and the
// files are named after it.
String service = request.artifactId
Path observability = root.resolve('deploy/observability')
Path dashboard = observability.resolve('grafana/chassis-service-dashboard.json')
String text = Files.readString(dashboard)
int variable = text.indexOf('"name": "service"')
int current = text.indexOf('"current": {}', variable)
text = text.substring(0, current) +
    '"current": { "selected": true, "text": "' + service + '", "value": "' + service + '" }' +
    text.substring(current + '"current": {}'.length())
text = text.replace('"title": "Chassis service"', '"title": "' + service + '"')
    .replace('"uid": "chassis-service"', '"uid": "' + service.take(40) + '"')
Files.writeString(observability.resolve("grafana/${service}-dashboard.json"), text)
Files.delete(dashboard)
Path alerts = observability.resolve('prometheus/chassis-alerts.yml')
Files.writeString(
    observability.resolve("prometheus/${service}-alerts.yml"),
    Files.readString(alerts).replace('- name: chassis-', "- name: ${service}-"))
Files.delete(alerts)

Files.walk(root).withCloseable { paths ->
  paths.filter { it.toString().endsWith('.java') }.each { Path file ->
    List<String> lines = Files.readAllLines(file)
    int first = lines.findIndexOf { it.startsWith('import ') }
    if (first < 0) {
      return
    }
    int last = lines.findLastIndexOf { it.startsWith('import ') }
    List<String> block = lines.subList(first, last + 1).findAll { it.startsWith('import ') }
    // google-java-format orders by the imported name: a.B before a.B.C (so without the ';').
    Closure<String> name = { String line -> line.replace(';', '') }
    List<String> statics = block.findAll { it.startsWith('import static ') }.unique().sort(name)
    List<String> others = block.findAll { !it.startsWith('import static ') }.unique().sort(name)
    List<String> sorted = []
    sorted.addAll(statics)
    if (!statics.isEmpty() && !others.isEmpty()) {
      sorted.add('')
    }
    sorted.addAll(others)
    List<String> result = []
    result.addAll(lines.subList(0, first))
    result.addAll(sorted)
    result.addAll(lines.subList(last + 1, lines.size()))
    Files.write(file, result)
  }
}
