; Inno Setup recipe: a per-user or per-machine installer over the PyInstaller folder dist\agent-assist\.
;
;   1. On Windows, in Git Bash:   bash packaging/build-bundle.sh     (or see README.md for PowerShell)
;   2. Then:                      iscc packaging\windows\agent-assist.iss
;   -> dist\installer\AgentAssist-<version>-setup.exe
;
; Pass the version from the project:  iscc /DAppVersion=0.1.0 packaging\windows\agent-assist.iss

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#define AppName "Agent Assist"
#define AppExe "agent-assist.exe"
#define SourceDir "..\..\dist\agent-assist"

[Setup]
; AppId identifies the product for upgrades and uninstall: never change it once released.
AppId={{6F0B8B8E-3C1E-4B7A-9C55-2B1F0A9E4D21}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=Agent Assist contributors
AppPublisherURL=https://github.com/agent-assist/agent-assist
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
; lets the person choose: just me (no admin rights, %LOCALAPPDATA%\Programs) or all users
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
OutputDir=..\..\dist\installer
OutputBaseFilename=AgentAssist-{#AppVersion}-setup
SetupIconFile=agent-assist.ico
UninstallDisplayIcon={app}\{#AppExe}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
; an upgrade closes the running app first (it holds its database open)
CloseApplications=yes
RestartApplications=no
; code signing: configure a sign tool named "signtool" in the Inno Setup IDE or with /S, then uncomment
; SignTool=signtool
; SignedUninstaller=yes

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
; the whole one-folder bundle: agent-assist.exe (no console), agent-assist-cli.exe, _internal\
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"; AppUserModelID: "io.github.agent_assist.AgentAssist"
Name: "{autoprograms}\{#AppName} (demo data)"; Filename: "{app}\{#AppExe}"; Parameters: "--demo"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

; The database, settings and logs live in the user's profile (%LOCALAPPDATA%\agent-assist\...) and the
; API key in Windows Credential Manager; uninstalling leaves them, on purpose: they are the person's data.
